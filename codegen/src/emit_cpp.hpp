// The C++ emitter: one header per root schema, holding the types that schema declares,
// their layout checks and a shmrec::RecordTraits specialisation for every struct (and, for a
// schema with tables, flatc's header and a shmrec::TableTraits for every table).
#pragma once

#include <string>

#include "schema_model.hpp"

namespace shmrec::codegen {

// "student.fbs" -> "student.shmrec.hpp".
std::string header_name(const SourceFile& file);

// The header for schema.files[0]. Deterministic: the same schema gives the same bytes on
// every run and machine (no timestamps, no absolute paths). When schema.files[0] declares
// tables, `flatc_header` is flatc's header for it (run_flatc()), embedded verbatim; it is
// not used otherwise.
std::string emit_cpp(const Schema& schema, const std::string& flatc_header = {});

}  // namespace shmrec::codegen
