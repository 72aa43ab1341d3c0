// RecordSchema::to_json(): one record through its decode plan into nlohmann::ordered_json
// (fields keep schema order). The rules (text fields, floats, NaN, enums) are in docs/inspect.md.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>

#include "decode_plan.hpp"
#include "shmrec/error.hpp"
#include "shmrec/inspect/record_schema.hpp"
#include "utf8.hpp"

namespace shmrec::inspect {

namespace {

using detail::DecodePlan;
using detail::EnumPlan;
using detail::FieldPlan;
using detail::Scalar;
using detail::Shape;
using detail::StructPlan;
using Json = nlohmann::ordered_json;

// Records are native structs (the region's header rules out the other byte order), maybe
// unaligned in a caller's buffer: memcpy reads them.
template <class T>
T load(const std::byte* at) {
    T value;
    std::memcpy(&value, at, sizeof value);
    return value;
}

// JSON has no NaN or infinity; these are the strings of the proto3 JSON mapping.
std::optional<Json> non_finite(double value) {
    if (std::isnan(value)) return Json("NaN");
    if (std::isinf(value)) return Json(value > 0 ? "Infinity" : "-Infinity");
    return std::nullopt;
}

// A float as the double its shortest text denotes: 0.1f prints as 0.1, not as the nearest
// double to the float (0.100000001490116).
Json float_json(float value) {
    if (auto special = non_finite(value)) return *special;
    char text[32];
    const auto printed = std::to_chars(std::begin(text), std::end(text), value);
    double shortest = value;
    std::from_chars(std::begin(text), printed.ptr, shortest);
    return shortest;
}

Json double_json(double value) {
    if (auto special = non_finite(value)) return *special;
    return value;  // nlohmann prints the shortest text that reads back as this double
}

// Signed values widen to int64, unsigned to uint64: nlohmann keeps both exactly.
Json scalar_json(Scalar scalar, const std::byte* at) {
    switch (scalar) {
        case Scalar::boolean: {
            // Any byte but 0 or 1 is not a C++ bool: shown as its number rather than guessed.
            const auto byte = load<std::uint8_t>(at);
            return byte <= 1 ? Json(byte == 1) : Json(byte);
        }
        case Scalar::i8:
            return load<std::int8_t>(at);
        case Scalar::u8:
            return load<std::uint8_t>(at);
        case Scalar::i16:
            return load<std::int16_t>(at);
        case Scalar::u16:
            return load<std::uint16_t>(at);
        case Scalar::i32:
            return load<std::int32_t>(at);
        case Scalar::u32:
            return load<std::uint32_t>(at);
        case Scalar::i64:
            return load<std::int64_t>(at);
        case Scalar::u64:
            return load<std::uint64_t>(at);
        case Scalar::f32:
            return float_json(load<float>(at));
        case Scalar::f64:
            return double_json(load<double>(at));
    }
    return nullptr;
}

// The 64-bit pattern a binary schema stores for an enum value of this underlying type.
std::int64_t enum_pattern(Scalar scalar, const std::byte* at) {
    switch (scalar) {
        case Scalar::i8:
            return load<std::int8_t>(at);
        case Scalar::u8:
            return load<std::uint8_t>(at);
        case Scalar::i16:
            return load<std::int16_t>(at);
        case Scalar::u16:
            return load<std::uint16_t>(at);
        case Scalar::i32:
            return load<std::int32_t>(at);
        case Scalar::u32:
            return load<std::uint32_t>(at);
        case Scalar::i64:
            return load<std::int64_t>(at);
        case Scalar::u64:
            return static_cast<std::int64_t>(load<std::uint64_t>(at));
        default:
            return 0;  // load() admits enums over integers only
    }
}

// By name; a bit_flags value as flatc's text output shows it ("A C": every flag it
// intersects, when together they make exactly the value); else the number.
Json enum_json(const EnumPlan& enumeration, Scalar scalar, const std::byte* at) {
    const auto pattern = enum_pattern(scalar, at);
    const auto named =
        std::lower_bound(enumeration.values.begin(), enumeration.values.end(), pattern,
                         [](const auto& entry, std::int64_t v) { return entry.first < v; });
    if (named != enumeration.values.end() && named->first == pattern) return named->second;
    if (enumeration.bit_flags) {
        const auto bits = static_cast<std::uint64_t>(pattern);
        std::uint64_t covered = 0;
        std::string names;
        for (const auto& [value, name] : enumeration.values) {
            const auto flag = static_cast<std::uint64_t>(value);
            if ((flag & bits) == 0) continue;
            covered |= flag;
            if (!names.empty()) names += ' ';
            names += name;
        }
        if (covered != 0 && covered == bits) return names;
    }
    return scalar_json(scalar, at);
}

// A text field as a string when nothing is lost: valid UTF-8 up to the first NUL (or all N
// bytes when there is none) and only zeros after it. Otherwise std::nullopt: the caller
// prints the bytes as numbers.
std::optional<Json> text_json(const std::byte* at, std::uint32_t length) {
    const std::string_view bytes(reinterpret_cast<const char*>(at), length);
    const auto text = bytes.substr(0, bytes.find('\0'));
    const auto rest = bytes.substr(text.size());
    if (std::any_of(rest.begin(), rest.end(), [](char c) { return c != '\0'; }))
        return std::nullopt;
    if (!detail::is_utf8(text)) return std::nullopt;
    return Json(std::string(text));
}

Json struct_json(const DecodePlan& plan, const StructPlan& layout, const std::byte* at);

Json value_json(const DecodePlan& plan, const FieldPlan& field, const std::byte* at) {
    switch (field.shape) {
        case Shape::scalar:
            return scalar_json(field.scalar, at);
        case Shape::enumeration:
            return enum_json(plan.enums[field.ref], field.scalar, at);
        case Shape::structure:
            return struct_json(plan, plan.structs[field.ref], at);
    }
    return nullptr;
}

Json field_json(const DecodePlan& plan, const FieldPlan& field, const std::byte* at) {
    if (field.length == 0) return value_json(plan, field, at);
    if (field.text) {
        if (auto text = text_json(at, field.length)) return *text;
    }
    Json array = Json::array();
    for (std::uint32_t i = 0; i < field.length; ++i) {
        array.push_back(value_json(plan, field, at + std::size_t{i} * field.element_size));
    }
    return array;
}

Json struct_json(const DecodePlan& plan, const StructPlan& layout, const std::byte* at) {
    Json object = Json::object();
    for (const auto& field : layout.fields) {
        object[field.name] = field_json(plan, field, at + field.offset);
    }
    return object;
}

}  // namespace

std::string RecordSchema::to_json(std::span<const std::byte> record, JsonLayout layout) const {
    const auto& root = plan_->structs.front();
    if (record.size() != root.size) {
        throw Error(ErrorCode::invalid_argument, "",
                    "to_json: a '" + detail::printable(root.name) + "' record is " +
                        std::to_string(root.size) + " bytes, got " + std::to_string(record.size()));
    }
    // load() bounded the values this makes by the record size (record_schema.cpp,
    // count_values()): no schema makes a small record decode into a huge document.
    // nlohmann throws only for invalid UTF-8 in dump() (load() checked every name and
    // text_json() every text) or misuse of a value's type (none here); should one still
    // escape, it leaves as a shmrec::Error like every other failure of this library.
    try {
        return struct_json(*plan_, root, record.data())
            .dump(layout == JsonLayout::indented ? 2 : -1);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorCode::corrupt_schema, "",
                    "to_json: a '" + detail::printable(root.name) +
                        "' record cannot be written as JSON: " + e.what());
    }
}

}  // namespace shmrec::inspect
