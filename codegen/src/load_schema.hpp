// The front end: FlatBuffers' own parser reads a schema (and what it includes) and
// load_schema() turns the parser's definitions into our schema model.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "schema_model.hpp"

namespace shmrec::codegen {

// Parses `schema_path`, resolving `include "x.fbs";` through `include_dirs` and then the
// schema's own directory (flatc's order). On failure returns nullopt and appends one or more
// messages of the form "file:line: error: text" (or "file: error: text" when no line is
// known) to `errors`. Rejects unions and rpc services instead of skipping them.
std::optional<Schema> load_schema(const std::string& schema_path,
                                  const std::vector<std::string>& include_dirs,
                                  std::vector<std::string>& errors);

}  // namespace shmrec::codegen
