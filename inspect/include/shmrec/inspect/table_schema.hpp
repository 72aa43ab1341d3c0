// Decoding a table record (a FlatBuffer whose root is a named table: what a byte ring of table
// records carries, TableRing<T>) to JSON, knowing only the region's embedded binary schema.
//
// TableSchema::load() treats the schema as untrusted, as RecordSchema::load() does: size bound,
// private copy, FlatBuffers' verifier, then the table and every type it reaches checked for
// what the decoder relies on; then FlatBuffers' own parser is loaded from it
// (Parser::Deserialize, the root type set by name). to_json() treats the record as untrusted:
// our own verifier walks it through the reflection schema (inspect/src/table_verifier.hpp:
// the root offset, every table's vtable and size, every present field inside its table and
// aligned, every offset, string and vector inside the record, strings terminated, vector
// sizes without overflow, bounded depth and table count) before FlatBuffers' text generator
// (GenerateText) reads a byte of it. It replaces flatbuffers::Verify from reflection.h, which
// in FlatBuffers 2.0.8 reads out of bounds on crafted records. Rules: docs/inspect.md.
//
//   auto schema = shmrec::inspect::TableSchema::load(bfbs, "school.Enrolment",
//                                                    "region 'Enrolments'");
//   auto json = schema.to_json(message_bytes);
//   if (json) std::cout << json.text << '\n';   // {"student":{...},"courses":["maths"],...}
//   else std::cerr << json.reason << '\n';     // why it is not shown
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "shmrec/inspect/record_schema.hpp"

namespace shmrec::inspect {

// Why a table record was not turned into JSON (TableJson::status).
enum class TableDecode : std::uint8_t {
    ok,
    too_small,    // shorter than the smallest FlatBuffer (8 bytes) or longer than 2 GiB
    rejected,     // the verifier found it malformed: an offset, length or alignment out of
                  // bounds, a string without its terminator, nesting or tables past the bounds,
                  // a required field absent (the reason names the field and the positions)
    not_text,     // well-formed, but not printable as JSON (a string that is not UTF-8)
};

std::string_view to_string(TableDecode status) noexcept;

struct TableJson {
    TableDecode status = TableDecode::ok;
    std::string text;    // the JSON object when ok
    std::string reason;  // otherwise, in words (without the record's origin)

    explicit operator bool() const noexcept { return status == TableDecode::ok; }
};

// A table type described by an embedded binary schema. Immutable; copies share the loaded
// parser. A moved-from TableSchema may only be assigned to or destroyed.
class TableSchema {
  public:
    static constexpr std::size_t max_schema_bytes = RecordSchema::max_schema_bytes;
    // The verifier's bounds for a record: nesting of tables (the root is 1), tables per record
    // (TableReadOptions' defaults).
    static constexpr std::uint32_t max_depth = 64;
    static constexpr std::uint32_t max_tables = 1'000'000;

    // Throws shmrec::Error with ErrorCode::corrupt_schema, naming `origin`, when the buffer is
    // not a valid binary schema, `table_name` is not a table in it, or a type the table reaches
    // is inconsistent (an index out of range, a struct field outside its struct or off its
    // alignment, a struct that contains itself, a name that is not an identifier), or uses
    // unions (not decoded yet).
    static TableSchema load(std::span<const std::uint8_t> binary_schema,
                            std::string_view table_name, std::string_view origin);

    std::string_view table_name() const noexcept;

    // One record as one JSON object, fields in schema order, or why not (status, reason).
    // Copies the record first when it is not 8-aligned. Scalars at their default value are
    // shown; absent strings, vectors and tables are not. Throws nothing but std::bad_alloc.
    TableJson to_json(std::span<const std::byte> record,
                      JsonLayout layout = JsonLayout::one_line) const;

  private:
    struct Impl;
    explicit TableSchema(std::shared_ptr<const Impl> impl) noexcept;

    std::shared_ptr<const Impl> impl_;
};

}  // namespace shmrec::inspect
