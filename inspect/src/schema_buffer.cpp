// Size bound, private copy and verification of an untrusted binary schema (schema_buffer.hpp).
#include "schema_buffer.hpp"

#include <flatbuffers/verifier.h>
#include <fmt/format.h>

#include <iterator>
#include <string>

#include "shmrec/error.hpp"

namespace shmrec::inspect::detail {

namespace {

// A reflection::Schema nests Schema > Service > RPCCall > Object > Field > Type: 6 tables.
constexpr flatbuffers::uoffset_t verifier_max_depth = 16;
// Bounds the verifier's work when a hostile buffer points many times at the same table.
constexpr flatbuffers::uoffset_t verifier_max_tables = 200'000;

}  // namespace

std::vector<std::uint8_t> verified_schema_copy(std::span<const std::uint8_t> binary_schema,
                                               std::size_t max_bytes, std::string_view origin) {
    const auto fail = [&](const std::string& what) {
        throw Error(ErrorCode::corrupt_schema, std::string(origin),
                    fmt::format("{}: corrupt record schema: {}", origin, what));
    };
    if (binary_schema.empty()) fail("the binary schema is empty");
    if (binary_schema.size() > max_bytes) {
        fail(fmt::format("the binary schema is {} bytes, more than the {} accepted",
                         binary_schema.size(), max_bytes));
    }
    std::vector<std::uint8_t> bytes(binary_schema.begin(), binary_schema.end());
    flatbuffers::Verifier::Options options;
    options.max_depth = verifier_max_depth;
    options.max_tables = verifier_max_tables;
    flatbuffers::Verifier verifier(bytes.data(), bytes.size(), options);
    if (!reflection::VerifySchemaBuffer(verifier)) {
        fail(fmt::format("the {} bytes are not a valid binary schema (reflection::Schema)",
                         bytes.size()));
    }
    return bytes;
}

std::int8_t raw_base_type(const reflection::Type& type, flatbuffers::voffset_t slot) {
    return reinterpret_cast<const flatbuffers::Table&>(type).GetField<std::int8_t>(slot, 0);
}

std::optional<reflection::BaseType> base_type_of(const reflection::Type& type,
                                                 flatbuffers::voffset_t slot) {
    const auto raw = raw_base_type(type, slot);
    if (raw < 0 || raw >= reflection::MaxBaseType) return std::nullopt;
    return static_cast<reflection::BaseType>(raw);
}

std::uint32_t scalar_bytes(reflection::BaseType t) {
    switch (t) {
        case reflection::Bool:
        case reflection::Byte:
        case reflection::UByte: return 1;
        case reflection::Short:
        case reflection::UShort: return 2;
        case reflection::Int:
        case reflection::UInt:
        case reflection::Float: return 4;
        default: return 8;
    }
}

std::string_view type_name(reflection::BaseType t) {
    static constexpr const char* names[] = {
        "none",  "union type", "bool",  "byte",  "ubyte",  "short",  "ushort", "int",
        "uint",  "long",       "ulong", "float", "double", "string", "vector", "table or struct",
        "union", "array"};
    const auto index = static_cast<std::size_t>(t);
    return index < std::size(names) ? names[index] : "unknown";
}

}  // namespace shmrec::inspect::detail
