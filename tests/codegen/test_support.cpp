#include "test_support.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace codegen_test {
namespace fs = std::filesystem;

namespace {

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (const char c : s) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

fs::path test_path(const std::string& suffix) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return fs::path(CODEGEN_SCRATCH_DIR) /
           (std::string(info->test_suite_name()) + "." + info->name() + suffix);
}

}  // namespace

fs::path scratch_dir() {
    const fs::path dir = test_path("");
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

RunResult run_generator(const std::vector<std::string>& args) {
    const fs::path dir = test_path(".run");
    fs::create_directories(dir);
    std::string cmd = quoted(SHMREC_GEN_EXE);
    for (const auto& a : args) cmd += " " + quoted(a);
    cmd += " >" + quoted((dir / "stdout").string()) + " 2>" + quoted((dir / "stderr").string());
    const int status = std::system(cmd.c_str());
    RunResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(dir / "stdout");
    r.err = read_file(dir / "stderr");
    fs::remove_all(dir);
    return r;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> names;
    if (!fs::exists(dir)) return names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace codegen_test
