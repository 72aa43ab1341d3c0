// The C++ emitter: one header per root schema, holding the types that schema declares,
// their layout checks and a shmrec::RecordTraits specialisation for every struct.
#pragma once

#include <string>

#include "schema_model.hpp"

namespace shmrec::codegen {

// "student.fbs" -> "student.shmrec.hpp".
std::string header_name(const SourceFile& file);

// The header for schema.files[0]. Deterministic: the same schema gives the same bytes on
// every run and machine (no timestamps, no absolute paths).
std::string emit_cpp(const Schema& schema);

}  // namespace shmrec::codegen
