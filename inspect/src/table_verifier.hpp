// The verifier of table records: a FlatBuffer from an untrusted writer, checked against the
// reflection schema before FlatBuffers' text generator reads a byte of it (table_schema.cpp).
//
// It replaces flatbuffers::Verify from reflection.h, which in Debian's FlatBuffers 2.0.8 reads
// out of bounds on crafted records. The checks are those of the generated code's
// flatbuffers::Verifier (verifier.h), plus what the generator's in-place reads need besides:
//   root     the root uoffset: not 0, below 2^31, its target inside the record;
//   table    4-aligned, its soffset inside; the vtable 2-aligned and inside, its size even, at
//            least 4 and inside; the table's size (the vtable's second entry) at least 4 and
//            inside; nesting at most max_depth tables, at most max_tables tables in all;
//   field    every present one (a required one present) at offset 4 or more, its bytes (the
//            scalar's size, 4 for an offset, a struct's bytesize) inside the table's size and
//            aligned to that scalar, to 4, or to the struct's minalign;
//   offset   to a string, vector or table: not 0, below 2^31, the target inside the record;
//   string   4-aligned, length and bytes inside, the terminating 0 there;
//   vector   4-aligned, length × element size (64-bit: no wrap) inside, the elements aligned to
//            their size (the builder does so; the generator reads them in place), every
//            string or table element verified in turn.
// Alignment is counted from the record's start; the caller 8-aligns the record in memory.
// Nothing outside `record` is read.
#pragma once

#include <flatbuffers/reflection_generated.h>

#include <cstdint>
#include <span>
#include <string>

namespace shmrec::inspect::detail {

struct TableLimits {
    std::uint32_t max_depth;   // tables nested in tables (the root is 1)
    std::uint32_t max_tables;  // tables verified per record, shared ones counted each time
};

// Empty when `record` is a well-formed FlatBuffer whose root is a `root` table; otherwise what
// is wrong and where ("field 'courses' (id 1) of school.Enrolment: vector of ..."). `schema` and
// `root` must have passed TableSchema::load's checks: type indexes in range, structs of
// consistent size and alignment, table field slots even and at least 4, no unions.
std::string verify_table_record(const reflection::Schema& schema, const reflection::Object& root,
                                std::span<const std::uint8_t> record, TableLimits limits);

}  // namespace shmrec::inspect::detail
