// The decode plan: a record type resolved once from a verified binary schema (record_schema.cpp)
// into plain data, which record_json.cpp walks without touching the schema buffer again.
// Every offset was checked at load: a field's bytes lie inside its struct, a nested struct's
// inside its field, so decoding a record_size span never reads outside it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace shmrec::inspect::detail {

// How one value's bytes are read (a field, or one element of a fixed array).
enum class Scalar : std::uint8_t { boolean, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64 };

enum class Shape : std::uint8_t {
    scalar,       // a number or bool
    enumeration,  // an integer printed by name: enums[ref]
    structure,    // a nested struct: structs[ref]
};

struct EnumPlan {
    // (value, name) sorted by value. The value is the 64-bit pattern the schema stores: an
    // unsigned value above INT64_MAX appears as its two's complement.
    std::vector<std::pair<std::int64_t, std::string>> values;
    bool bit_flags = false;
};

struct FieldPlan {
    std::string name;
    Shape shape = Shape::scalar;
    Scalar scalar = Scalar::u8;      // for scalar and enumeration: how to read the value
    bool text = false;               // (shmrec_text) on [ubyte:N] / [byte:N]
    std::uint32_t offset = 0;        // from the start of the containing struct
    std::uint32_t length = 0;        // 0: one value; N: a fixed array [T:N]
    std::uint32_t element_size = 0;  // bytes of one value (of one element for an array)
    std::uint32_t ref = 0;           // index into DecodePlan::enums or ::structs
};

struct StructPlan {
    std::string name;
    std::uint32_t size = 0;
    std::vector<FieldPlan> fields;  // in declaration order
};

struct DecodePlan {
    std::vector<StructPlan> structs;  // structs[0] is the record
    std::vector<EnumPlan> enums;
};

std::uint32_t scalar_size(Scalar s) noexcept;

}  // namespace shmrec::inspect::detail
