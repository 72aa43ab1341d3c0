// TableSchema: table records (FlatBuffers whose root is a named table) to JSON through
// FlatBuffers' own text generator, after our verifier (each of its checks is tested in
// table_verifier_test.cpp); and the schema checks that make the generator safe on an untrusted
// schema. Records are made from JSON text with FlatBuffers' parser, so no generated code is
// involved.
#include <flatbuffers/idl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "binary_schema.hpp"
#include "table_records.hpp"
#include "shmrec/error.hpp"
#include "shmrec/inspect/table_schema.hpp"

namespace {

using nlohmann::json;
using shmrec::inspect::JsonLayout;
using shmrec::inspect::TableDecode;
using shmrec::inspect::TableSchema;

using shmrec_test::rec_schema_text;

std::vector<std::byte> record_from_json(const std::string& data) {
    return shmrec_test::table_record(rec_schema_text, data);
}

const std::vector<std::uint8_t>& bfbs() {
    static const auto bytes = shmrec_test::embedded_schema(rec_schema_text);
    return bytes;
}

TableSchema rec_schema() { return TableSchema::load(bfbs(), "t.Rec", "region 'Recs'"); }

const std::string& full_record = shmrec_test::full_rec;

TEST(TableJson, EveryKindOfFieldDecodesAsJson) {
    const auto schema = rec_schema();
    EXPECT_EQ(schema.table_name(), "t.Rec");
    const auto r = schema.to_json(record_from_json(full_record));
    ASSERT_TRUE(r) << r.reason;
    const json expected = json::parse(R"({
        "name": "Ada", "list": ["a", "bé"],
        "box": {"corner": {"x": -7, "y": 3}, "tags": [1, 2, 3]},
        "nums": [1, -2, 2147483647], "colour": "Blue", "inner": {"v": -9000000000},
        "f": 0.25, "d": 2.5, "ul": 18446744073709551615,
        "points": [{"x": 1, "y": 2}], "inners": [{"v": 1}, {"v": 0}]})");
    EXPECT_EQ(json::parse(r.text), expected) << r.text;
    EXPECT_EQ(r.text.find('\n'), std::string::npos);  // one line
    EXPECT_EQ(r.text.find(": "), std::string::npos);
}

TEST(TableJson, FieldsComeInSchemaOrderAndDefaultsAreShown) {
    const auto r = rec_schema().to_json(record_from_json(R"({ name: "x" })"));
    ASSERT_TRUE(r) << r.reason;
    // Absent strings, vectors and tables are not shown; scalars at their default are.
    EXPECT_EQ(r.text, R"({"name":"x","colour":"Green","f":1.5,"d":0.0,"ul":0})");
}

TEST(TableJson, IndentedLayoutIsTwoSpaces) {
    const auto r = rec_schema().to_json(record_from_json(R"({ name: "x" })"), JsonLayout::indented);
    ASSERT_TRUE(r) << r.reason;
    EXPECT_EQ(r.text.substr(0, 15), "{\n  \"name\": \"x\"");
}

TEST(TableJson, NanAndInfinityBecomeStrings) {
    const auto r = rec_schema().to_json(record_from_json(R"({ f: nan, d: -inf })"));
    ASSERT_TRUE(r) << r.reason;
    const json j = json::parse(r.text);
    EXPECT_EQ(j.at("f"), "NaN");
    EXPECT_EQ(j.at("d"), "-Infinity");
    const auto plus = rec_schema().to_json(record_from_json(R"({ f: inf })"));
    ASSERT_TRUE(plus) << plus.reason;
    EXPECT_EQ(json::parse(plus.text).at("f"), "Infinity");
}

TEST(TableJson, AnUnalignedRecordDecodesTheSame) {
    const auto bytes = record_from_json(full_record);
    std::vector<std::byte> shifted(bytes.size() + 1);
    std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
    const auto a = rec_schema().to_json(bytes);
    const auto b = rec_schema().to_json(std::span(shifted).subspan(1));
    ASSERT_TRUE(a && b) << a.reason << b.reason;
    EXPECT_EQ(a.text, b.text);
}

TEST(TableJson, ARecordThatIsNotAValidTableIsRejectedNotRead) {
    const auto schema = rec_schema();
    auto bytes = record_from_json(full_record);
    const std::uint32_t far = 1u << 20;
    std::memcpy(bytes.data(), &far, sizeof far);  // root offset past the end
    const auto r = schema.to_json(bytes);
    EXPECT_EQ(r.status, TableDecode::rejected);
    EXPECT_NE(r.reason.find("not a valid t.Rec"), std::string::npos) << r.reason;
    EXPECT_TRUE(r.text.empty());
    EXPECT_EQ(schema.to_json(std::span(bytes).first(3)).status, TableDecode::too_small);
    EXPECT_EQ(schema.to_json({}).status, TableDecode::too_small);
}

TEST(TableJson, AStringThatIsNotUtf8IsNotText) {
    auto bytes = record_from_json(R"({ name: "abc" })");
    const std::string needle = "abc";
    auto at = std::search(bytes.begin(), bytes.end(),
                           reinterpret_cast<const std::byte*>(needle.data()),
                           reinterpret_cast<const std::byte*>(needle.data()) + 3);
    ASSERT_NE(at, bytes.end());
    *at = std::byte{0xff};
    const auto r = rec_schema().to_json(bytes);
    EXPECT_EQ(r.status, TableDecode::not_text) << r.text;
}

// Every truncation and every single-bit flip of a valid record: verified first, so the result
// is either valid JSON or a status; never a crash, never a read outside the record (ASan).
TEST(TableJson, EveryTruncationAndBitFlipIsJsonOrRefused) {
    EXPECT_GT(shmrec_test::expect_json_or_refused_when_damaged(
                  rec_schema(), record_from_json(full_record)),
              0);
}

void expect_corrupt(const std::vector<std::uint8_t>& schema, const std::string& name,
                    const std::string& part) {
    try {
        (void)TableSchema::load(schema, name, "region 'Recs'");
        ADD_FAILURE() << "loaded " << name;
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::corrupt_schema) << e.what();
        EXPECT_NE(std::string(e.what()).find("region 'Recs': corrupt record schema"),
                  std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
}

TEST(TableSchemaLoad, RefusesWhatItCannotDecodeSafely) {
    expect_corrupt(bfbs(), "t.Missing", "no type named 't.Missing'");
    expect_corrupt(bfbs(), "t.Point", "is a struct, not a table");
    expect_corrupt({}, "t.Rec", "empty");
    expect_corrupt(std::vector<std::uint8_t>(64, 0xab), "t.Rec", "not a valid binary schema");
    expect_corrupt(shmrec_test::binary_schema_from_text(R"(
        namespace u; table A { x: int; } table B { y: int; } union AB { A, B }
        table R { v: AB; })"),
                   "u.R", "union");
    expect_corrupt(shmrec_test::binary_schema_from_text(R"(
        namespace u; table A { x: int; } union AB { A }
        table Deep { v: AB; } table R { d: [Deep]; })"),
                   "u.R", "union");
}

// The record verifier aligns a struct as a whole and the generator reads its fields in place:
// a field off its own alignment, or aligned more than its struct, is refused.
TEST(TableSchemaLoad, RefusesAStructFieldOffItsAlignment) {
    auto odd = bfbs();
    shmrec_test::overwrite<std::uint16_t>(shmrec_test::field_named(odd, "t.Point", "y"),
                                          reflection::Field::VT_OFFSET, 5);
    expect_corrupt(odd, "t.Rec", "struct 't.Point', field 'y': offset 5 is not aligned to 2");
    auto loose = bfbs();
    shmrec_test::overwrite<std::int32_t>(shmrec_test::object_named(loose, "t.Box"),
                                         reflection::Object::VT_MINALIGN, 2);
    expect_corrupt(loose, "t.Rec",
                   "struct 't.Box', field 'corner': offset 0 is not aligned to 4 within a struct "
                   "aligned to 2");
}

TEST(TableSchemaLoad, ATableThatReachesItselfIsFine) {
    const auto schema = TableSchema::load(
        shmrec_test::binary_schema_from_text("namespace u; table Node { v: int; next: Node; }"),
        "u.Node", "test");
    flatbuffers::Parser parser;
    ASSERT_TRUE(parser.Parse("namespace u; table Node { v: int; next: Node; } root_type Node;"
                             R"({ v: 1, next: { v: 2, next: { v: 3 } } })"));
    const auto* p = reinterpret_cast<const std::byte*>(parser.builder_.GetBufferPointer());
    const auto r = schema.to_json({p, parser.builder_.GetSize()});
    ASSERT_TRUE(r) << r.reason;
    EXPECT_EQ(r.text, R"({"v":1,"next":{"v":2,"next":{"v":3}}})");
}

// A bit flipped at every bit of the schema: it loads (and then decodes records to JSON or
// refuses them) or is refused with corrupt_schema; nothing else, never a crash.
TEST(TableSchemaLoad, EveryBitFlipOfTheSchemaLoadsOrIsRefused) {
    const auto& good = bfbs();
    const auto record = record_from_json(full_record);
    int loaded = 0;
    for (std::size_t bit = 0; bit < 8 * good.size(); ++bit) {
        auto flipped = good;
        flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        try {
            const auto schema = TableSchema::load(flipped, "t.Rec", "flip");
            ++loaded;
            const auto r = schema.to_json(record);
            if (r) {
                EXPECT_TRUE(json::accept(r.text)) << bit;
            }
        } catch (const shmrec::Error& e) {
            EXPECT_EQ(e.code(), shmrec::ErrorCode::corrupt_schema) << bit << ": " << e.what();
        }
    }
    EXPECT_GT(loaded, 0);
}

}  // namespace
