// The first layers of loading an untrusted binary schema, shared by RecordSchema (structs) and
// TableSchema (tables): the size bound, a private copy, FlatBuffers' verifier; reading a
// reflection::Type's base type bytes without the undefined behaviour of the generated
// accessors; what a base type is (scalar, size, name).
#pragma once

#include <flatbuffers/reflection_generated.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace shmrec::inspect::detail {

// A verified private copy of `binary_schema` (a writer changing the shared bytes afterwards
// cannot change what the checks saw; the verifier needs aligned bytes). Throws
// Error(corrupt_schema) naming `origin` when it is empty, larger than `max_bytes`, or not a
// valid reflection::Schema.
std::vector<std::uint8_t> verified_schema_copy(std::span<const std::uint8_t> binary_schema,
                                               std::size_t max_bytes, std::string_view origin);

// reflection::BaseType has no fixed underlying type, so turning a byte outside its values
// (a hostile buffer's) into one is undefined behaviour, which the generated accessors
// base_type() and element() do. The byte is read and checked here instead.
std::int8_t raw_base_type(const reflection::Type& type, flatbuffers::voffset_t slot);
std::optional<reflection::BaseType> base_type_of(const reflection::Type& type,
                                                 flatbuffers::voffset_t slot);

// Bool to Double: the types a FlatBuffer stores inline, little-endian, at their own size.
inline bool is_scalar(reflection::BaseType t) {
    return t >= reflection::Bool && t <= reflection::Double;
}
// A scalar's size in bytes (is_scalar(t)).
std::uint32_t scalar_bytes(reflection::BaseType t);
// The schema spelling of a base type, for messages ("int", "string", "table or struct").
std::string_view type_name(reflection::BaseType t);

inline std::string_view str(const flatbuffers::String* s) {
    return s == nullptr ? std::string_view{} : s->string_view();
}

}  // namespace shmrec::inspect::detail
