// TableTraits<T>: what shmrec knows about a FlatBuffers table. shmrec-gen writes one
// specialisation per schema table, after flatc's code for it (docs/codegen.md, "Tables").
// No FlatBuffers header here: a table's C++ type is flatc's, and only the generated header
// includes FlatBuffers.
#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>

namespace shmrec {

// Primary template: deliberately undefined, so a type that no generated header described as
// a table fails at compile time.
template <class T>
struct TableTraits;

// A table shmrec knows: its qualified schema name ("school.Enrolment", how a reader finds it
// in binary_schema, whose root table is never set), the root schema's text and FlatBuffers'
// binary schema (the same .bfbs as RecordTraits<S>::binary_schema of a struct of that file),
// and a fingerprint of everything schema evolution cares about: each field's id, name, type
// (through the tables, structs and enums it uses), default, deprecated and required.
template <class T>
concept Table = requires {
    { TableTraits<T>::name } -> std::convertible_to<std::string_view>;
    { TableTraits<T>::fingerprint } -> std::convertible_to<std::uint64_t>;
    { TableTraits<T>::schema } -> std::convertible_to<std::string_view>;
    { TableTraits<T>::binary_schema } -> std::convertible_to<std::span<const std::uint8_t>>;
};

}  // namespace shmrec
