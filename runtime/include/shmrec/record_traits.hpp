// RecordTraits<T>: what shmrec knows about a record type. shmrec-gen writes one
// specialisation per schema struct; the runtime reads nothing else about T.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

namespace shmrec {

// One field of a record, as FlatBuffers' parser laid it out.
struct FieldInfo {
    std::string_view name;       // as in the schema
    std::string_view type;       // schema spelling: "long", "[ubyte:20]", "school.Color", ...
    std::uint32_t offset;        // byte offset inside the record
    std::uint32_t size;          // byte size of the whole field (all elements of an array)
    std::uint32_t array_length;  // 0 for a non-array field
};

// Primary template: deliberately undefined, so using a type that no generated header
// described fails at compile time.
template <class T>
struct RecordTraits;

// A record shmrec can place in shared memory: described by generated traits, and trivially
// copyable, because it is copied byte-wise between address spaces and never constructed or
// destroyed there (no pointers, no virtual functions, no owned resources).
template <class T>
concept Record = std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T> && requires {
    { RecordTraits<T>::name } -> std::convertible_to<std::string_view>;
    { RecordTraits<T>::size } -> std::convertible_to<std::size_t>;
    { RecordTraits<T>::alignment } -> std::convertible_to<std::size_t>;
    { RecordTraits<T>::fingerprint } -> std::convertible_to<std::uint64_t>;
    { RecordTraits<T>::schema } -> std::convertible_to<std::string_view>;
    { RecordTraits<T>::binary_schema } -> std::convertible_to<std::span<const std::uint8_t>>;
} && RecordTraits<T>::size == sizeof(T) && RecordTraits<T>::alignment == alignof(T);

}  // namespace shmrec
