// RecordSchema::load() with binary schemas a damaged or hostile writer could embed: each must
// load or throw shmrec::Error(corrupt_schema) naming the origin, the struct and the field;
// never crash, hang or let to_json() read outside the record.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

#include "binary_schema.hpp"
#include "expect_error.hpp"
#include "shmrec/inspect/record_schema.hpp"

namespace {

using shmrec::ErrorCode;
using shmrec::inspect::RecordSchema;
using shmrec_test::binary_schema_from_file;
using shmrec_test::binary_schema_from_text;
using shmrec_test::doubling_dag;
using shmrec_test::enum_index;
using shmrec_test::fails_with;
using shmrec_test::field_named;
using shmrec_test::object_index;
using shmrec_test::object_named;
using shmrec_test::overwrite;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr const char* origin = "region 'InspectTest'";

std::vector<std::uint8_t> student_bfbs() {
    return binary_schema_from_file(INSPECT_STUDENT_SCHEMA);
}

// load() must fail with corrupt_schema; returns what() (empty, and a test failure, otherwise).
std::string load_error(const std::vector<std::uint8_t>& bfbs, std::string_view name,
                       std::uint32_t size) {
    std::string what;
    EXPECT_TRUE(fails_with([&] { (void)RecordSchema::load(bfbs, name, size, origin); },
                           ErrorCode::corrupt_schema, &what));
    EXPECT_THAT(what, HasSubstr(origin));
    return what;
}

// A schema that loaded, whatever it says, decodes any record bytes into valid JSON.
void decode_anything(const RecordSchema& schema) {
    for (const auto fill : {std::byte{0x00}, std::byte{0xff}, std::byte{0x41}}) {
        const std::vector<std::byte> record(schema.record_size(), fill);
        const auto json = schema.to_json(record);
        EXPECT_TRUE(nlohmann::json::accept(json)) << json;
    }
}

// Loads or throws corrupt_schema; anything else (another exception, a crash) fails the test.
void load_or_refuse(const std::vector<std::uint8_t>& bfbs, std::string_view name,
                    std::uint32_t size) {
    try {
        decode_anything(RecordSchema::load(bfbs, name, size, origin));
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::corrupt_schema) << e.what();
    }
}

TEST(InspectSchema, ValidSchemaLoads) {
    const auto schema = RecordSchema::load(student_bfbs(), "school.Student", 32, origin);
    EXPECT_EQ(schema.record_name(), "school.Student");
    EXPECT_EQ(schema.record_size(), 32u);
}

TEST(InspectSchema, EmptyIsRefused) {
    EXPECT_THAT(load_error({}, "school.Student", 32), HasSubstr("empty"));
}

TEST(InspectSchema, TruncatedAtEveryLengthIsRefused) {
    // The buffer ends in the last string's NUL and up to 3 bytes of alignment padding: cutting
    // only padding may load, and then must decode as the whole schema does.
    const auto whole = student_bfbs();
    const std::vector<std::byte> record(32, std::byte{0x61});
    const auto expected = RecordSchema::load(whole, "school.Student", 32, origin).to_json(record);
    for (std::size_t length = 1; length < whole.size(); ++length) {
        SCOPED_TRACE("length " + std::to_string(length));
        const std::vector<std::uint8_t> part(whole.begin(),
                                             whole.begin() + static_cast<long>(length));
        if (length + 3 < whole.size()) {
            load_error(part, "school.Student", 32);
        } else {
            try {
                EXPECT_EQ(RecordSchema::load(part, "school.Student", 32, origin).to_json(record),
                          expected);
            } catch (const shmrec::Error& e) {
                EXPECT_EQ(e.code(), ErrorCode::corrupt_schema);
            }
        }
    }
}

TEST(InspectSchema, OversizedIsRefusedBeforeVerifying) {
    // A valid schema padded with zeros verifies: only the size bound refuses it.
    auto padded = student_bfbs();
    padded.resize(RecordSchema::max_schema_bytes + 1);
    EXPECT_THAT(load_error(padded, "school.Student", 32), HasSubstr("1048577 bytes"));
    padded.resize(RecordSchema::max_schema_bytes);
    EXPECT_NO_THROW((void)RecordSchema::load(padded, "school.Student", 32, origin));
}

TEST(InspectSchema, RandomGarbageIsRefused) {
    std::mt19937 random(20261202);
    for (int round = 0; round < 2000; ++round) {
        std::vector<std::uint8_t> garbage(random() % 600 + 1);
        for (auto& b : garbage) b = static_cast<std::uint8_t>(random());
        load_error(garbage, "school.Student", 32);
    }
}

TEST(InspectSchema, GarbageBehindAValidHeaderNeverCrashes) {
    // The root offset and the "BFBS" identifier of a real schema, the rest random, so the
    // verifier gets past the identifier check.
    const auto real = student_bfbs();
    std::mt19937 random(7);
    for (int round = 0; round < 2000; ++round) {
        auto mixed = real;
        for (std::size_t i = 8; i < mixed.size(); ++i) {
            if (random() % 8 == 0) mixed[i] = static_cast<std::uint8_t>(random());
        }
        load_or_refuse(mixed, "school.Student", 32);
    }
}

TEST(InspectSchema, BitFlippedAtEveryPositionLoadsOrIsRefused) {
    for (const auto* schema : {INSPECT_STUDENT_SCHEMA, INSPECT_EVERY_TYPE_SCHEMA}) {
        const auto real = binary_schema_from_file(schema);
        const std::string name = schema == std::string(INSPECT_STUDENT_SCHEMA)
                                     ? "school.Student"
                                     : "inspect_test.EveryType";
        const auto size = static_cast<std::uint32_t>(object_named(real, name).bytesize());
        for (std::size_t i = 0; i < real.size(); ++i) {
            for (int bit = 0; bit < 8; ++bit) {
                auto flipped = real;
                flipped[i] ^= static_cast<std::uint8_t>(1u << bit);
                load_or_refuse(flipped, name, size);
            }
        }
    }
}

TEST(InspectSchema, MissingRecordNameIsRefused) {
    EXPECT_THAT(load_error(student_bfbs(), "school.Teacher", 32),
                HasSubstr("no type named 'school.Teacher'"));
}

TEST(InspectSchema, OverlongFieldAndEnumValueNamesAreRefused) {
    const std::string longest(RecordSchema::max_name_bytes, 'f');
    const std::string too_long(RecordSchema::max_name_bytes + 1, 'f');
    EXPECT_NO_THROW((void)RecordSchema::load(
        binary_schema_from_text("namespace ok; struct P { " + longest + ": int; }"), "ok.P", 4,
        "test"));
    EXPECT_THAT(load_error(binary_schema_from_text("namespace bad; struct P { " + too_long +
                                                   ": int; }"),
                           "bad.P", 4),
                HasSubstr("1025 bytes long"));
    EXPECT_THAT(load_error(binary_schema_from_text("namespace bad; enum E : byte { " + too_long +
                                                   " } struct P { e: E; }"),
                           "bad.P", 1),
                HasSubstr("longer than 1024 bytes"));
}

TEST(InspectSchema, TableRecordIsRefused) {
    const auto bfbs = binary_schema_from_text("namespace bad; table Thing { x: int; }");
    EXPECT_THAT(load_error(bfbs, "bad.Thing", 4), HasSubstr("'bad.Thing' is a table"));
}

TEST(InspectSchema, WrongRecordSizeIsRefused) {
    EXPECT_THAT(load_error(student_bfbs(), "school.Student", 24),
                HasSubstr("struct 'school.Student' is 32 bytes in the schema, the record is 24"));
}

TEST(InspectSchema, TextOnlyOnByteArrays) {
    const auto bfbs = binary_schema_from_text(
        "namespace bad; attribute \"shmrec_text\"; struct S { a: [short:4] (shmrec_text); }");
    EXPECT_THAT(load_error(bfbs, "bad.S", 8),
                AllOf(HasSubstr("struct 'bad.S', field 'a'"), HasSubstr("[ubyte:N] and [byte:N]")));
    const auto single = binary_schema_from_text(
        "namespace bad; attribute \"shmrec_text\"; struct S { a: ubyte (shmrec_text); }");
    EXPECT_THAT(load_error(single, "bad.S", 1), HasSubstr("[ubyte:N] and [byte:N]"));
}

// bad.Leaf (objects()[0]) and bad.Loop, whose field `a` is a Leaf until edited.
const char* const nesting = R"(
    namespace bad;
    struct Leaf { v: int; }
    struct Loop { a: Leaf; }
    table Holder { x: int; })";

TEST(InspectSchema, StructContainingItselfIsRefused) {
    auto bfbs = binary_schema_from_text(nesting);
    ASSERT_NO_THROW((void)RecordSchema::load(bfbs, "bad.Loop", 4, origin));
    overwrite<std::int32_t>(*field_named(bfbs, "bad.Loop", "a").type(), reflection::Type::VT_INDEX,
                            object_index(bfbs, "bad.Loop"));
    EXPECT_THAT(load_error(bfbs, "bad.Loop", 4),
                HasSubstr("struct 'bad.Loop', field 'a': struct 'bad.Loop' contains itself"));
}

TEST(InspectSchema, StructsContainingEachOtherAreRefused) {
    auto bfbs = binary_schema_from_text(R"(
        namespace bad;
        struct C { v: int; }
        struct B { c: C; }
        struct A { b: B; })");
    overwrite<std::int32_t>(*field_named(bfbs, "bad.B", "c").type(), reflection::Type::VT_INDEX,
                            object_index(bfbs, "bad.A"));
    EXPECT_THAT(load_error(bfbs, "bad.A", 4),
                HasSubstr("struct 'bad.B', field 'c': struct 'bad.A' contains itself"));
}

TEST(InspectSchema, NestedTableIsRefused) {
    auto bfbs = binary_schema_from_text(nesting);
    overwrite<std::int32_t>(*field_named(bfbs, "bad.Loop", "a").type(), reflection::Type::VT_INDEX,
                            object_index(bfbs, "bad.Holder"));
    EXPECT_THAT(load_error(bfbs, "bad.Loop", 4), AllOf(HasSubstr("struct 'bad.Loop', field 'a'"),
                                                       HasSubstr("'bad.Holder' is a table")));
}

TEST(InspectSchema, StructIndexOutOfRangeIsRefused) {
    auto bfbs = binary_schema_from_text(nesting);
    overwrite<std::int32_t>(*field_named(bfbs, "bad.Loop", "a").type(), reflection::Type::VT_INDEX,
                            3);
    EXPECT_THAT(load_error(bfbs, "bad.Loop", 4),
                AllOf(HasSubstr("struct 'bad.Loop', field 'a'"), HasSubstr("struct index 3")));
}

// Structs S0 { v: int } and S<k> { s: S<k-1> }: S<k> nests k structs below it.
std::vector<std::uint8_t> chain_of(int length, const std::string& extra = "") {
    std::string text = "namespace deep; struct S0 { v: int; }\n";
    for (int k = 1; k < length; ++k) {
        text += "struct S" + std::to_string(k) + " { s: S" + std::to_string(k - 1) + "; }\n";
    }
    return binary_schema_from_text(text + extra);
}

TEST(InspectSchema, NestingIsBounded) {
    const auto bfbs = chain_of(RecordSchema::max_nesting + 2);
    const auto limit = "deep.S" + std::to_string(RecordSchema::max_nesting);
    EXPECT_NO_THROW((void)RecordSchema::load(bfbs, limit, 4, origin));
    const auto beyond = "deep.S" + std::to_string(RecordSchema::max_nesting + 1);
    EXPECT_THAT(load_error(bfbs, beyond, 4),
                HasSubstr("struct 'deep.S1', field 's': struct 'deep.S0' is nested more than 32"));
}

TEST(InspectSchema, NestingIsBoundedThroughAStructAlreadyPlanned) {
    // R plans S31 first (31 deep), then meets it again below W: 33 levels in all.
    const auto bfbs = chain_of(32, "struct W { s: S31; } struct R { first: S31; w: W; }");
    EXPECT_NO_THROW((void)RecordSchema::load(bfbs, "deep.W", 4, origin));
    EXPECT_THAT(load_error(bfbs, "deep.R", 8),
                HasSubstr("struct 'deep.W', field 's': struct 'deep.S31' is nested more than 32"));
}

TEST(InspectSchema, OverlappingFieldsAreRefused) {
    // The reviewer's construction: a second field moved onto the first one's bytes.
    auto bfbs = binary_schema_from_text("namespace bad; struct P { a: int; b: int; }");
    ASSERT_NO_THROW((void)RecordSchema::load(bfbs, "bad.P", 8, origin));
    overwrite<std::uint16_t>(field_named(bfbs, "bad.P", "b"), reflection::Field::VT_OFFSET, 0);
    EXPECT_THAT(load_error(bfbs, "bad.P", 8),
                HasSubstr("struct 'bad.P': fields 'a' (4 bytes at offset 0) and 'b' (4 bytes at "
                          "offset 0) overlap"));
}

TEST(InspectSchema, PartlyOverlappingFieldsAreRefusedInOffsetOrder) {
    // `b` declared second but moved before `a`, its last byte on `a`'s first.
    auto bfbs = binary_schema_from_text("namespace bad; struct P { x: ubyte; a: ushort; b: int; }");
    ASSERT_NO_THROW((void)RecordSchema::load(bfbs, "bad.P", 8, origin));
    overwrite<std::uint16_t>(field_named(bfbs, "bad.P", "a"), reflection::Field::VT_OFFSET, 4);
    overwrite<std::uint16_t>(field_named(bfbs, "bad.P", "b"), reflection::Field::VT_OFFSET, 1);
    EXPECT_THAT(
        load_error(bfbs, "bad.P", 8),
        HasSubstr("fields 'b' (4 bytes at offset 1) and 'a' (2 bytes at offset 4) overlap"));
}

TEST(InspectSchema, PaddingBetweenFieldsIsFine) {
    // flatc pads `x` to `b`'s alignment and the struct to 8: gaps, not overlaps.
    const auto bfbs = binary_schema_from_text("namespace ok; struct P { x: ubyte; b: int; }");
    EXPECT_NO_THROW((void)RecordSchema::load(bfbs, "ok.P", 8, origin));
}

TEST(InspectSchema, NestedSchemaStillLoads) {
    // every_type (json_test.cpp's golden): nested structs, arrays of structs, enums, padding.
    const auto bfbs = binary_schema_from_file(INSPECT_EVERY_TYPE_SCHEMA);
    const auto& record = object_named(bfbs, "inspect_test.EveryType");
    const auto size = static_cast<std::uint32_t>(record.bytesize());
    decode_anything(RecordSchema::load(bfbs, "inspect_test.EveryType", size, origin));
}

TEST(InspectSchema, DoublingDagIsRefused) {
    const auto bfbs = doubling_dag(20);
    EXPECT_THAT(load_error(bfbs, "dag.S0", 8),
                HasSubstr("fields 'a' (8 bytes at offset 0) and 'b' (8 bytes at offset 0) "
                          "overlap"));
}

// Edits of bad.E's fields: `a` a Color, `b` an int at offset 4, `arr` an array at offset 8.
const char* const edits = R"(
    namespace bad;
    enum Color : ubyte { Red, Green }
    enum Wide : int { Zero, One }
    struct E { a: Color; b: int; arr: [ubyte:4]; })";

TEST(InspectSchema, FieldPastTheStructIsRefused) {
    auto bfbs = binary_schema_from_text(edits);
    ASSERT_NO_THROW((void)RecordSchema::load(bfbs, "bad.E", 12, origin));
    overwrite<std::uint16_t>(field_named(bfbs, "bad.E", "b"), reflection::Field::VT_OFFSET, 10);
    EXPECT_THAT(load_error(bfbs, "bad.E", 12),
                AllOf(HasSubstr("struct 'bad.E', field 'b'"),
                      HasSubstr("4 bytes at offset 10 end past the struct's 12 bytes")));
}

TEST(InspectSchema, ArrayPastTheStructIsRefused) {
    auto bfbs = binary_schema_from_text(edits);
    overwrite<std::uint16_t>(*field_named(bfbs, "bad.E", "arr").type(),
                             reflection::Type::VT_FIXED_LENGTH, 5);
    EXPECT_THAT(load_error(bfbs, "bad.E", 12), HasSubstr("5 bytes at offset 8 end past"));
}

TEST(InspectSchema, EmptyFixedArrayIsRefused) {
    auto bfbs = binary_schema_from_text(edits);
    overwrite<std::uint16_t>(*field_named(bfbs, "bad.E", "arr").type(),
                             reflection::Type::VT_FIXED_LENGTH, 0);
    EXPECT_THAT(load_error(bfbs, "bad.E", 12),
                AllOf(HasSubstr("field 'arr'"), HasSubstr("length 0")));
}

TEST(InspectSchema, EnumOfAnotherUnderlyingTypeIsRefused) {
    auto bfbs = binary_schema_from_text(edits);
    overwrite<std::int8_t>(*field_named(bfbs, "bad.E", "a").type(), reflection::Type::VT_BASE_TYPE,
                           static_cast<std::int8_t>(reflection::Int));
    EXPECT_THAT(load_error(bfbs, "bad.E", 12),
                AllOf(HasSubstr("field 'a'"),
                      HasSubstr("enum 'bad.Color' has underlying type ubyte, the field is int")));
    // The same enum named by an int field: the index is stored only when not -1, so Wide's
    // index (1) is edited into Color's field instead, whose type stays ubyte.
    auto other = binary_schema_from_text(edits);
    overwrite<std::int32_t>(*field_named(other, "bad.E", "a").type(), reflection::Type::VT_INDEX,
                            enum_index(other, "bad.Wide"));
    EXPECT_THAT(load_error(other, "bad.E", 12),
                HasSubstr("enum 'bad.Wide' has underlying type int, the field is ubyte"));
}

TEST(InspectSchema, EnumIndexOutOfRangeIsRefused) {
    auto bfbs = binary_schema_from_text(edits);
    overwrite<std::int32_t>(*field_named(bfbs, "bad.E", "a").type(), reflection::Type::VT_INDEX, 2);
    EXPECT_THAT(load_error(bfbs, "bad.E", 12),
                AllOf(HasSubstr("field 'a'"), HasSubstr("enum index 2 is not among the 2 enums")));
}

TEST(InspectSchema, UnsupportedTypeIsRefused) {
    auto bfbs = binary_schema_from_text(edits);
    overwrite<std::int8_t>(*field_named(bfbs, "bad.E", "b").type(), reflection::Type::VT_BASE_TYPE,
                           static_cast<std::int8_t>(reflection::String));
    EXPECT_THAT(load_error(bfbs, "bad.E", 12),
                AllOf(HasSubstr("struct 'bad.E', field 'b'"), HasSubstr("type 'string'")));
}

TEST(InspectSchema, BaseTypeOutsideTheEnumIsRefused) {
    // Found by the schema fuzzer: reflection::BaseType cannot hold 100 (undefined behaviour
    // under UBSan if the generated accessor converted it), so the byte is checked raw.
    auto bfbs = binary_schema_from_text(edits);
    overwrite<std::int8_t>(*field_named(bfbs, "bad.E", "b").type(), reflection::Type::VT_BASE_TYPE,
                           100);
    EXPECT_THAT(load_error(bfbs, "bad.E", 12),
                AllOf(HasSubstr("field 'b'"), HasSubstr("unknown base type 100")));
    auto element = binary_schema_from_text(edits);
    overwrite<std::int8_t>(*field_named(element, "bad.E", "arr").type(),
                           reflection::Type::VT_ELEMENT, -3);
    EXPECT_THAT(load_error(element, "bad.E", 12),
                AllOf(HasSubstr("field 'arr'"), HasSubstr("unknown base type -3")));
}

TEST(InspectSchema, FieldNameThatIsNotUtf8IsRefused) {
    auto bfbs = binary_schema_from_text(edits);
    const auto* name = field_named(bfbs, "bad.E", "b").name();
    const_cast<char*>(name->c_str())[0] = '\xff';
    EXPECT_THAT(load_error(bfbs, "bad.E", 12),
                AllOf(HasSubstr("field '\\xff'"), HasSubstr("UTF-8")));
}

}  // namespace
