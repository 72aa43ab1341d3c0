// Test support: binary schemas (.bfbs bytes) made from .fbs text with FlatBuffers' own parser,
// as shmrec-gen embeds them, and edits of them that a hostile writer could make.
#pragma once

#include <flatbuffers/reflection_generated.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shmrec_test {

// Whether the binary schema keeps FlatBuffers' built-in attributes (bit_flags, force_align...):
// Parser::Serialize() (and `flatc -b --schema`) leaves them out unless
// IDLOptions::binary_schema_builtins (`--bfbs-builtins`) is set.
enum class Builtins { omitted, kept };

// The bytes of Parser::Serialize() for schema text; throws std::runtime_error on a parse error.
std::vector<std::uint8_t> binary_schema_from_text(const std::string& fbs_text,
                                                  Builtins builtins = Builtins::kept);
// The same for a schema file (includes resolved beside it).
std::vector<std::uint8_t> binary_schema_from_file(const std::string& fbs_path,
                                                  Builtins builtins = Builtins::kept);

// Lookups into a binary schema by qualified struct name and field name, for editing it in
// place; throw std::runtime_error when missing.
const reflection::Object& object_named(const std::vector<std::uint8_t>& bfbs,
                                       std::string_view name);
int object_index(const std::vector<std::uint8_t>& bfbs, std::string_view name);
int enum_index(const std::vector<std::uint8_t>& bfbs, std::string_view name);
const reflection::Field& field_named(const std::vector<std::uint8_t>& bfbs,
                                     std::string_view struct_name, std::string_view field);

// A hostile schema (RELIABILITY C10, the decode blow-up): structs dag.S<k> { a: S<k+1>;
// b: S<k+1>; } for k < depth over dag.L { v: ulong; }, then every S<k> made 8 bytes and every
// `b` moved to offset 0. Each field then lies inside its struct, but fields share bytes: an
// 8-byte dag.S0 would decode into 2^depth values. load() must refuse it.
std::vector<std::uint8_t> doubling_dag(int depth);

// Overwrites a scalar already stored in a table of the buffer (`slot` is a VT_ constant of the
// reflection table); throws std::runtime_error when the builder left it out as a default.
template <class T, class Table>
void overwrite(const Table& table, flatbuffers::voffset_t slot, T value);

}  // namespace shmrec_test

#include "binary_schema.inl"
