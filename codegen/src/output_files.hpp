// Writing what shmrec-gen produced: atomically (temporary file + rename) and only when the
// content changed, so an unchanged schema leaves headers' timestamps and rebuilds alone.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace shmrec::codegen {

enum class WriteResult { unchanged, written, failed };

// Replaces `path` by `content` unless it already holds exactly that. On failure `error`
// says why and `path` is left as it was.
WriteResult write_if_changed(const std::filesystem::path& path, const std::string& content,
                             std::string& error);

// A Makefile-syntax dependency file: "out1 out2: dep1 dep2 ...", absolute paths, one
// dependency per line, as Ninja and CMake's DEPFILE read it.
std::string make_depfile(const std::vector<std::filesystem::path>& outputs,
                         const std::vector<std::filesystem::path>& dependencies);

}  // namespace shmrec::codegen
