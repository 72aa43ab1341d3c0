// The C++ of a schema with tables comes from flatc itself (docs/codegen.md, "Tables"):
// shmrec-gen runs it as a child process and embeds its header verbatim.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace shmrec::codegen {

// flatc's options, also printed in the generated header: C++ enums as `enum class` (shmrec's
// own spelling, so tables can use shmrec's enums), no #include of other schemas' flatc
// headers (the shmrec headers of included schemas come first instead), mutators for structs,
// std::string_view and friends.
inline constexpr const char* flatc_options[] = {"--cpp",         "--scoped-enums", "--no-includes",
                                                "--gen-mutable", "--cpp-std",      "c++17"};

// Runs `flatc <flatc_options> -I <dir>... -o <temporary dir> schema_path` and returns the
// header it wrote. On failure returns nullopt and sets `error` (flatc's own messages went to
// stderr).
std::optional<std::string> run_flatc(const std::string& flatc,
                                     const std::vector<std::string>& include_dirs,
                                     const std::string& schema_path, std::string& error);

}  // namespace shmrec::codegen
