// RecordSchema::to_json(): golden JSON for records built with shmrec-gen's types (so the
// decoder agrees with the generator's layout), and the decoding rules of docs/inspect.md.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include "binary_schema.hpp"
#include "every_type.shmrec.hpp"
#include "expect_error.hpp"
#include "shapes.shmrec.hpp"
#include "shmrec/inspect/record_schema.hpp"
#include "student.shmrec.hpp"

namespace {

using shmrec::ErrorCode;
using shmrec::inspect::JsonLayout;
using shmrec::inspect::RecordSchema;
using shmrec_test::binary_schema_from_file;
using shmrec_test::Builtins;
using shmrec_test::fails_with;
using namespace inspect_test;

template <class T>
std::span<const std::byte> bytes_of(const T& record) {
    return std::as_bytes(std::span(&record, 1));
}

RecordSchema student_schema() {
    return RecordSchema::load(binary_schema_from_file(INSPECT_STUDENT_SCHEMA), "school.Student",
                              sizeof(school::Student), "region 'TestMemShare'");
}

// With the built-in attributes kept, so that bit_flags is known (see BitFlagsNeedTheBuiltins).
RecordSchema every_type_schema(Builtins builtins = Builtins::kept) {
    return RecordSchema::load(binary_schema_from_file(INSPECT_EVERY_TYPE_SCHEMA, builtins),
                              "inspect_test.EveryType", sizeof(EveryType), "test");
}

std::string json_of(const EveryType& record) {
    return every_type_schema().to_json(bytes_of(record));
}

// One field of an otherwise zero EveryType, as its JSON text ("key":value).
template <class Set>
std::string field_json(std::string_view name, Set set) {
    EveryType record{};
    set(record);
    const auto json = json_of(record);
    const auto key = "\"" + std::string(name) + "\":";
    const auto begin = json.find(key);
    if (begin == std::string::npos) return "(no field " + std::string(name) + ")";
    // Every field this helper is used for is a scalar, a string or a flat array.
    auto end = begin + key.size();
    if (json[end] == '[') {
        end = json.find(']', end) + 1;
    } else if (json[end] == '"') {
        end = json.find('"', end + 1) + 1;
    } else {
        end = json.find_first_of(",}", end);
    }
    return json.substr(begin, end - begin);
}

TEST(InspectJson, StudentGolden) {
    school::Student stu{};
    stu.id = 99041232;
    stu.name = "SecBug";
    const auto schema = student_schema();
    EXPECT_EQ(schema.record_name(), "school.Student");
    EXPECT_EQ(schema.record_size(), 32u);
    EXPECT_EQ(schema.to_json(bytes_of(stu)), R"({"id":99041232,"name":"SecBug"})");
    EXPECT_EQ(schema.to_json(bytes_of(stu), JsonLayout::indented),
              "{\n  \"id\": 99041232,\n  \"name\": \"SecBug\"\n}");
}

TEST(InspectJson, EveryTypeGolden) {
    EveryType r{};
    r.flag = true;
    r.i8 = std::numeric_limits<std::int8_t>::min();
    r.u8 = std::numeric_limits<std::uint8_t>::max();
    r.i16 = std::numeric_limits<std::int16_t>::min();
    r.u16 = std::numeric_limits<std::uint16_t>::max();
    r.i32 = std::numeric_limits<std::int32_t>::min();
    r.u32 = std::numeric_limits<std::uint32_t>::max();
    r.i64 = std::numeric_limits<std::int64_t>::min();
    r.u64 = std::numeric_limits<std::uint64_t>::max();
    r.f32 = 0.1f;
    r.f64 = 0.1;
    r.color = Color::Blue;
    r.level = Level::Low;
    r.big = Big::Max;
    r.access = static_cast<Access>(1u | 4u);
    r.where = {1.5f, -2.25f};
    r.tagged.point = {0.3f, 3e38f};
    r.tagged.color = Color::Green;
    r.name = "h\xc3\xa9llo";
    r.signed_text = "abc";
    r.key = {1, 2, 3, 4};
    r.weights = {1e300, -0.5};
    r.colors = {Color::Red, Color::Blue, static_cast<Color>(7)};
    r.path = {{{1.0f, 2.0f}, {3.0f, 4.0f}}};
    EXPECT_EQ(json_of(r),
              R"({"flag":true,"i8":-128,"u8":255,"i16":-32768,"u16":65535,"i32":-2147483648,)"
              R"("u32":4294967295,"i64":-9223372036854775808,"u64":18446744073709551615,)"
              R"("f32":0.1,"f64":0.1,"color":"Blue","level":"Low","big":"Max",)"
              R"("access":"Read Exec","where":{"x":1.5,"y":-2.25},)"
              R"("tagged":{"point":{"x":0.3,"y":3e+38},"color":"Green"},)"
              "\"name\":\"h\xc3\xa9llo\","
              R"("signed_text":"abc","key":[1,2,3,4],"weights":[1e+300,-0.5],)"
              R"("colors":["Red","Blue",7],"path":[{"x":1.0,"y":2.0},{"x":3.0,"y":4.0}]})");
}

TEST(InspectJson, ForceAlignedStructsFromAnIncludingSchema) {
    // codegen's layout schema: force_align (16) pads inside and between structs.
    codegen_test::geo::deep::HoldsAligned r{};
    r.head = -1;
    r.inner.v = 7;
    r.inner.w = 8;
    r.tail[0].v = 1;
    r.tail[0].w = 2;
    r.tail[1].v = 3;
    r.tail[1].w = 4;
    const auto schema = RecordSchema::load(binary_schema_from_file(INSPECT_SHAPES_SCHEMA),
                                           "codegen_test.geo.deep.HoldsAligned", sizeof r, "test");
    EXPECT_EQ(schema.to_json(bytes_of(r)),
              R"({"head":-1,"inner":{"v":7,"w":8},"tail":[{"v":1,"w":2},{"v":3,"w":4}]})");
}

TEST(InspectJson, TextFillingEveryByteIsAString) {
    school::Student stu{};
    std::memcpy(stu.name.data(), "ABCDEFGHIJKLMNOPQRST", 20);  // no NUL at all
    EXPECT_EQ(student_schema().to_json(bytes_of(stu)), R"({"id":0,"name":"ABCDEFGHIJKLMNOPQRST"})");
}

TEST(InspectJson, TextWithBytesAfterTheNulIsAnArrayOfNumbers) {
    school::Student stu{};
    stu.name = "ab";
    stu.name[5] = 'x';  // a stale byte: printing "ab" would hide it
    EXPECT_EQ(student_schema().to_json(bytes_of(stu)),
              R"({"id":0,"name":[97,98,0,0,0,120,0,0,0,0,0,0,0,0,0,0,0,0,0,0]})");
}

TEST(InspectJson, TextThatIsNotUtf8IsAnArrayOfNumbers) {
    school::Student stu{};
    stu.name = "a\xff";
    EXPECT_EQ(student_schema().to_json(bytes_of(stu)),
              R"({"id":0,"name":[97,255,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]})");
    stu.name = "\xed\xa0\x80";  // an encoded surrogate (U+D800) is not UTF-8 either
    EXPECT_THAT(student_schema().to_json(bytes_of(stu)), ::testing::HasSubstr("[237,160,128,0,"));
}

TEST(InspectJson, SignedTextFallsBackToSignedNumbers) {
    EXPECT_EQ(field_json("signed_text", [](EveryType& r) { r.signed_text = "\x80"; }),
              R"("signed_text":[-128,0,0,0,0,0])");
}

TEST(InspectJson, ControlCharactersInTextAreEscaped) {
    EXPECT_EQ(field_json("name", [](EveryType& r) { r.name = "a\n\x01"; }),
              R"("name":"a\n\u0001")");
}

TEST(InspectJson, FloatsPrintTheShortestTextOfTheFloat) {
    EXPECT_EQ(field_json("f32", [](EveryType& r) { r.f32 = 0.1f; }), R"("f32":0.1)");
    EXPECT_EQ(field_json("f32", [](EveryType& r) { r.f32 = -0.0f; }), R"("f32":-0.0)");
    EXPECT_EQ(field_json("f32", [](EveryType& r) { r.f32 = std::numeric_limits<float>::max(); }),
              R"("f32":3.4028235e+38)");
    EXPECT_EQ(
        field_json("f32", [](EveryType& r) { r.f32 = std::numeric_limits<float>::denorm_min(); }),
        R"("f32":1e-45)");
    EXPECT_EQ(field_json("f64", [](EveryType& r) { r.f64 = 1.0 / 3; }),
              R"("f64":0.3333333333333333)");
}

TEST(InspectJson, NanAndInfinityAreStrings) {
    constexpr auto inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(field_json("f32", [](EveryType& r) { r.f32 = std::nanf(""); }), R"("f32":"NaN")");
    EXPECT_EQ(field_json("f32", [](EveryType& r) { r.f32 = -std::nanf(""); }), R"("f32":"NaN")");
    EXPECT_EQ(field_json("f32", [](EveryType& r) { r.f32 = inf; }), R"("f32":"Infinity")");
    EXPECT_EQ(field_json("f32", [](EveryType& r) { r.f32 = -inf; }), R"("f32":"-Infinity")");
    EXPECT_EQ(field_json("f64", [](EveryType& r) { r.f64 = std::nan(""); }), R"("f64":"NaN")");
    EXPECT_EQ(field_json("f64", [](EveryType& r) { r.f64 = -double(inf); }),
              R"("f64":"-Infinity")");
}

TEST(InspectJson, BoolBytesOtherThanZeroOrOneAreNumbers) {
    EXPECT_EQ(field_json("flag", [](EveryType& r) { r.flag = false; }), R"("flag":false)");
    EXPECT_EQ(field_json("flag", [](EveryType& r) { std::memset(&r.flag, 2, 1); }), R"("flag":2)");
}

TEST(InspectJson, EnumValuesWithoutNameAreNumbers) {
    EXPECT_EQ(field_json("color", [](EveryType& r) { r.color = static_cast<Color>(1); }),
              R"("color":"Green")");
    EXPECT_EQ(field_json("color", [](EveryType& r) { r.color = static_cast<Color>(250); }),
              R"("color":250)");
    EXPECT_EQ(field_json("level", [](EveryType& r) { r.level = Level::High; }),
              R"("level":"High")");
    EXPECT_EQ(field_json("level", [](EveryType& r) { r.level = static_cast<Level>(-1); }),
              R"("level":-1)");
    EXPECT_EQ(field_json("big", [](EveryType& r) { r.big = static_cast<Big>(~0ull - 1); }),
              R"("big":18446744073709551614)");
}

TEST(InspectJson, BitFlagsAsFlatcPrintsThem) {
    const auto access = [](std::uint32_t bits) {
        return field_json("access", [bits](EveryType& r) { r.access = static_cast<Access>(bits); });
    };
    EXPECT_EQ(access(2), R"("access":"Write")");
    EXPECT_EQ(access(3), R"("access":"Read Write")");
    EXPECT_EQ(access(7), R"("access":"Read Write Exec")");
    EXPECT_EQ(access(0), R"("access":0)");  // no flag set and no name for 0
    EXPECT_EQ(access(8), R"("access":8)");  // a bit no flag names
    EXPECT_EQ(access(9), R"("access":9)");  // partly named: the number, nothing is dropped
}

TEST(InspectJson, BitFlagsNeedTheBuiltins) {
    // Parser::Serialize() leaves bit_flags out by default: then only single flags have names.
    EveryType r{};
    r.access = static_cast<Access>(1u | 4u);
    EXPECT_THAT(every_type_schema(Builtins::omitted).to_json(bytes_of(r)),
                ::testing::HasSubstr(R"("access":5,)"));
    r.access = Access::Write;
    EXPECT_THAT(every_type_schema(Builtins::omitted).to_json(bytes_of(r)),
                ::testing::HasSubstr(R"("access":"Write",)"));
}

TEST(InspectJson, RecordOfAnotherSizeIsRefused) {
    const auto schema = student_schema();
    const std::vector<std::byte> short_record(31);
    std::string what;
    EXPECT_TRUE(fails_with([&] { (void)schema.to_json(short_record); }, ErrorCode::invalid_argument,
                           &what));
    EXPECT_THAT(what, ::testing::HasSubstr("school.Student"));
}

TEST(InspectJson, UnalignedRecordBytesDecode) {
    school::Student stu{};
    stu.id = -5;
    stu.name = "x";
    std::vector<std::byte> buffer(sizeof stu + 1);
    std::memcpy(buffer.data() + 1, &stu, sizeof stu);
    EXPECT_EQ(student_schema().to_json(std::span(buffer).subspan(1)), R"({"id":-5,"name":"x"})");
}

TEST(InspectJson, DecodingNeverReadsTheSchemaBufferAgain) {
    auto bfbs = binary_schema_from_file(INSPECT_STUDENT_SCHEMA);
    const auto schema = RecordSchema::load(bfbs, "school.Student", 32, "test");
    std::fill(bfbs.begin(), bfbs.end(), std::uint8_t{0x5a});  // a writer scribbling over it
    bfbs.clear();
    bfbs.shrink_to_fit();
    school::Student stu{};
    stu.id = 1;
    const auto copy = schema;
    EXPECT_EQ(copy.to_json(bytes_of(stu)), R"({"id":1,"name":""})");
}

}  // namespace
