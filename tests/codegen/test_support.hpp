// Helpers shared by the codegen tests: running the real shmrec-gen, scratch directories.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace codegen_test {

inline const std::filesystem::path schemas_dir{CODEGEN_SCHEMAS};

struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs shmrec-gen (the built executable, not a library call) with `args`.
RunResult run_generator(const std::vector<std::string>& args);

// A fresh, empty directory for the current test under the build tree.
std::filesystem::path scratch_dir();

std::string read_file(const std::filesystem::path& path);

// The names of the files in `dir` (none when it does not exist).
std::vector<std::string> files_in(const std::filesystem::path& dir);

}  // namespace codegen_test
