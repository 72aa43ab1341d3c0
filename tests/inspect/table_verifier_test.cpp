// The verifier of table records (inspect/src/table_verifier.cpp), through TableSchema::to_json:
// one record per check, built by FlatBuffers and then edited in place as a hostile writer
// would, each rejected with a reason that names the field (or the root) and what is wrong; and
// records of every kind of field FlatBuffers' generator prints still decoded.
#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "table_records.hpp"

namespace {

using nlohmann::json;
using shmrec::inspect::TableDecode;
using shmrec::inspect::TableSchema;
using shmrec_test::rec_schema_text;

// t.Rec's field ids (the vtable slot is 4 + 2 * id).
constexpr int name_id = 0;
constexpr int list_id = 1;
constexpr int nums_id = 3;
constexpr int inner_id = 5;
constexpr int d_id = 7;
constexpr int points_id = 9;
constexpr int inners_id = 10;

// A built record and the positions of its parts, for editing it in place.
struct Record {
    std::vector<std::byte> bytes;

    template <class T>
    T get(std::size_t pos) const {
        T value;
        std::memcpy(&value, bytes.data() + pos, sizeof value);
        return value;
    }
    template <class T>
    void put(std::size_t pos, T value) {
        std::memcpy(bytes.data() + pos, &value, sizeof value);
    }

    std::size_t root() const { return get<std::uint32_t>(0); }
    std::size_t vtable(std::size_t table) const {
        return static_cast<std::size_t>(static_cast<std::int64_t>(table) -
                                        get<std::int32_t>(table));
    }
    // Where the vtable holds field `id`'s offset in the table.
    std::size_t slot(std::size_t table, int id) const { return vtable(table) + 4 + 2 * id; }
    // Where field `id` of the table is; the test fails when the builder left it out.
    std::size_t field(std::size_t table, int id) const {
        const auto at = get<std::uint16_t>(slot(table, id));
        EXPECT_NE(at, 0) << "field " << id << " absent";
        return table + at;
    }
    // Where the offset in field `id` points.
    std::size_t target(std::size_t table, int id) const {
        const auto at = field(table, id);
        return at + get<std::uint32_t>(at);
    }
};

Record rec(const std::string& json_text) {
    return {shmrec_test::table_record(rec_schema_text, json_text)};
}

const TableSchema& verifier_rec_schema() {
    static const auto schema = shmrec_test::table_schema(rec_schema_text, "t.Rec");
    return schema;
}

// Rejected, the reason naming each of `parts`.
void expect_rejected(const Record& r, const std::vector<std::string>& parts,
                     const TableSchema& schema = verifier_rec_schema()) {
    const auto result = schema.to_json(r.bytes);
    EXPECT_EQ(result.status, TableDecode::rejected) << result.text;
    EXPECT_TRUE(result.text.empty());
    EXPECT_EQ(result.reason.rfind("not a valid ", 0), 0u) << result.reason;
    for (const auto& part : parts) {
        EXPECT_NE(result.reason.find(part), std::string::npos)
            << "'" << part << "' not in: " << result.reason;
    }
}

TEST(TableVerifier, TheUneditedRecordsDecode) {
    // The records the tests below edit: valid as built.
    for (const auto* text : {R"({ inner: { v: 5 } })", R"({ d: 2.5 })", R"({ name: "abc" })",
                             R"({ nums: [1, 2, 3] })", R"({ inners: [{ v: 1 }, { v: 2 }] })"}) {
        const auto r = verifier_rec_schema().to_json(rec(text).bytes);
        EXPECT_TRUE(r) << text << ": " << r.reason;
    }
}

TEST(TableVerifier, RootOffsetOutsideOrAtItselfIsRejected) {
    auto r = rec(R"({ d: 2.5 })");
    r.put<std::uint32_t>(0, static_cast<std::uint32_t>(r.bytes.size()));
    expect_rejected(r, {"root: offset", "past the record's end"});
    r.put<std::uint32_t>(0, 0);
    expect_rejected(r, {"root: offset 0 at 0 points at itself"});
    r.put<std::uint32_t>(0, 0x80000000u);
    expect_rejected(r, {"root: offset 2147483648 at 0 is 2 GiB or more"});
}

TEST(TableVerifier, VtableOutsideTheRecordIsRejected) {
    auto r = rec(R"({ inner: { v: 5 } })");
    const auto inner = r.target(r.root(), inner_id);
    r.put<std::int32_t>(inner, -100000);  // the vtable 100000 bytes past the table
    expect_rejected(r, {"field 'inner' (id 5) of t.Rec: table t.Inner at", "puts the vtable at",
                        "outside the record"});
    r.put<std::int32_t>(inner, static_cast<std::int32_t>(inner) + 2);  // before the start
    expect_rejected(r, {"field 'inner' (id 5) of t.Rec", "puts the vtable at -2"});
    r.put<std::int32_t>(inner, 1);  // odd
    expect_rejected(r, {"field 'inner' (id 5) of t.Rec", "is not 2-aligned"});
}

TEST(TableVerifier, VtableSizeOddTooSmallOrTooLargeIsRejected) {
    const auto good = rec(R"({ inner: { v: 5 } })");
    const auto vtable = good.vtable(good.target(good.root(), inner_id));
    auto r = good;
    r.put<std::uint16_t>(vtable, 5);
    expect_rejected(r, {"field 'inner' (id 5) of t.Rec: table t.Inner", "vtable size 5 is odd"});
    r.put<std::uint16_t>(vtable, 2);
    expect_rejected(r, {"field 'inner' (id 5) of t.Rec", "vtable size 2 is below 4"});
    r.put<std::uint16_t>(vtable, 0xfffe);
    expect_rejected(
        r, {"field 'inner' (id 5) of t.Rec", "vtable of 65534 bytes", "passes the record's end"});
}

TEST(TableVerifier, AFieldPastTheTableOrTheRecordIsRejected) {
    const auto good = rec(R"({ d: 2.5 })");
    const auto root = good.root();
    const auto d_at = good.get<std::uint16_t>(good.slot(root, d_id));
    auto r = good;
    r.put<std::uint16_t>(good.vtable(root) + 2, static_cast<std::uint16_t>(d_at + 4));
    expect_rejected(r, {"field 'd' (id 7) of t.Rec: 8 bytes at offset " + std::to_string(d_at) +
                        " pass the table's end (" + std::to_string(d_at + 4) + " bytes)"});
    r = good;
    r.put<std::uint16_t>(good.vtable(root) + 2, 0xfff0);
    expect_rejected(r, {"root: table t.Rec at", "its 65520 bytes pass the record's end"});
    r = good;
    r.put<std::uint16_t>(good.vtable(root) + 2, 2);
    expect_rejected(r, {"root: table t.Rec", "table size 2 is below 4"});
    r = good;
    r.put<std::uint16_t>(good.slot(root, d_id), 2);
    expect_rejected(r, {"field 'd' (id 7) of t.Rec: at offset 2, over the table's vtable offset"});
}

TEST(TableVerifier, MisalignedTablesFieldsAndStringsAreRejected) {
    const auto good = rec(R"({ d: 2.5 })");
    auto r = good;
    r.put<std::uint32_t>(0, static_cast<std::uint32_t>(good.root() + 2));
    expect_rejected(
        r, {"root: table t.Rec at " + std::to_string(good.root() + 2) + ": not 4-aligned"});
    // d moved by 4 bytes: still inside the table, no longer 8-aligned.
    const auto both = rec(R"({ f: 0.25, d: 2.5 })");
    const auto d_slot = both.slot(both.root(), d_id);
    const auto d_at = both.get<std::uint16_t>(d_slot);
    const auto size = both.get<std::uint16_t>(both.vtable(both.root()) + 2);
    const auto moved = static_cast<std::uint16_t>(d_at + 12 <= size ? d_at + 4 : d_at - 4);
    ASSERT_GE(moved, 4);
    r = both;
    r.put<std::uint16_t>(d_slot, moved);
    expect_rejected(r, {"field 'd' (id 7) of t.Rec: at", "is not 8-aligned"});

    auto s = rec(R"({ name: "abc" })");
    const auto name = s.field(s.root(), name_id);
    s.put<std::uint32_t>(name, s.get<std::uint32_t>(name) + 1);
    expect_rejected(s, {"field 'name' (id 0) of t.Rec: string at", "is not 4-aligned"});
}

TEST(TableVerifier, AStringWithoutItsTerminatorOrPastTheEndIsRejected) {
    const auto good = rec(R"({ name: "abc" })");
    const auto at = good.target(good.root(), name_id);
    auto r = good;
    r.put<char>(at + 4 + 3, 'x');
    expect_rejected(r, {"field 'name' (id 0) of t.Rec: string of 3 bytes at " + std::to_string(at) +
                        " has no terminating 0"});
    r = good;
    r.put<std::uint32_t>(at, 1000);
    expect_rejected(
        r, {"field 'name' (id 0) of t.Rec: string of 1000 bytes at " + std::to_string(at) +
            " runs past the record's end (" + std::to_string(good.bytes.size()) + " bytes)"});
}

TEST(TableVerifier, AVectorWhoseByteSizeWrapsIsRejected) {
    // 0x40000001 ints are 0x100000004 bytes: 4 in 32 bits.
    auto ints = rec(R"({ nums: [1, 2, 3] })");
    ints.put<std::uint32_t>(ints.target(ints.root(), nums_id), 0x40000001u);
    expect_rejected(ints, {"field 'nums' (id 3) of t.Rec: vector of 1073741825 int values (4 "
                           "bytes each)",
                           "runs past the record's end"});
    // 0x20000001 structs of 8 bytes: 8 in 32 bits.
    auto points = rec(R"({ points: [{ x: 1, y: 2 }] })");
    points.put<std::uint32_t>(points.target(points.root(), points_id), 0x20000001u);
    expect_rejected(points, {"field 'points' (id 9) of t.Rec: vector of 536870913 t.Point "
                             "structs (8 bytes each)",
                             "runs past the record's end"});
    auto strings = rec(R"({ list: ["a"] })");
    strings.put<std::uint32_t>(strings.target(strings.root(), list_id), 4000000000u);
    expect_rejected(strings, {"field 'list' (id 1) of t.Rec: vector of 4000000000 strings",
                              "runs past the record's end (" +
                                  std::to_string(strings.bytes.size()) + " bytes)"});
}

TEST(TableVerifier, AVectorElementPointingOutsideIsRejected) {
    const auto good = rec(R"({ inners: [{ v: 1 }, { v: 2 }] })");
    const auto vector = good.target(good.root(), inners_id);
    auto r = good;
    r.put<std::uint32_t>(vector + 8, 0x7ffff000u);  // element 1
    expect_rejected(r, {"element 1 of field 'inners' (id 10) of t.Rec: offset 2147479552 at " +
                            std::to_string(vector + 8) + " points to",
                        "past the record's end"});
    r = good;
    r.put<std::uint32_t>(vector + 4, 0);  // element 0 at itself
    expect_rejected(r,
                    {"element 0 of field 'inners' (id 10) of t.Rec: offset 0", "points at itself"});
    auto list = rec(R"({ list: ["a", "b"] })");
    const auto strings = list.target(list.root(), list_id);
    list.put<std::uint32_t>(strings + 8, list.get<std::uint32_t>(strings + 8) + 2);
    expect_rejected(list,
                    {"element 1 of field 'list' (id 1) of t.Rec: string at", "is not 4-aligned"});
}

// Node chains built with the builder: FlatBuffers' JSON parser stops at 64 levels itself.
const std::string node_schema_text =
    "namespace u; table Node { v: int; next: Node; } root_type Node;";

Record chain(int tables) {
    flatbuffers::FlatBufferBuilder b;
    flatbuffers::uoffset_t next = 0;
    for (int i = tables; i >= 1; --i) {
        const auto start = b.StartTable();
        b.AddElement<std::int32_t>(4, i, 0);
        if (next != 0) b.AddOffset(6, flatbuffers::Offset<void>(next));
        next = b.EndTable(start);
    }
    b.Finish(flatbuffers::Offset<void>(next));
    const auto* p = reinterpret_cast<const std::byte*>(b.GetBufferPointer());
    return {{p, p + b.GetSize()}};
}

TEST(TableVerifier, NestingPastMaxDepthIsRejected) {
    const auto schema = shmrec_test::table_schema(node_schema_text, "u.Node");
    const auto deepest = schema.to_json(chain(static_cast<int>(TableSchema::max_depth)).bytes);
    ASSERT_TRUE(deepest) << deepest.reason;
    EXPECT_EQ(json::parse(deepest.text).at("v"), 1);
    expect_rejected(
        chain(static_cast<int>(TableSchema::max_depth) + 1),
        {"field 'next' (id 1) of u.Node: table u.Node at", "tables nest deeper than 64"}, schema);
}

TEST(TableVerifier, MoreThanMaxTablesIsRejected) {
    // One small table, a vector that points at it max_tables times: verified once per offset.
    const std::string text =
        "namespace u; table Leaf { v: int; } table Many { leaves: [Leaf]; } root_type Many;";
    const auto schema = shmrec_test::table_schema(text, "u.Many");
    // Built by hand: [root][Many vtable][Many][vector of count offsets][Leaf vtable][Leaf].
    const auto record = [](std::uint32_t count) {
        Record r;
        r.bytes.resize(4 + 8 + 8 + 4 + 4 * static_cast<std::size_t>(count) + 8 + 8);
        r.put<std::uint32_t>(0, 12);  // root: Many at 12
        r.put<std::uint16_t>(4, 6);   // Many's vtable: 6 bytes,
        r.put<std::uint16_t>(6, 8);   //   table of 8 bytes,
        r.put<std::uint16_t>(8, 4);   //   leaves at 4
        r.put<std::int32_t>(12, 8);   // Many: vtable at 4
        r.put<std::uint32_t>(16, 4);  //   leaves: the vector at 20
        r.put<std::uint32_t>(20, count);
        const std::size_t leaf_vtable = 24 + 4 * static_cast<std::size_t>(count);
        const std::size_t leaf = leaf_vtable + 8;
        for (std::uint32_t i = 0; i < count; ++i) {
            const std::size_t at = 24 + 4 * static_cast<std::size_t>(i);
            r.put<std::uint32_t>(at, static_cast<std::uint32_t>(leaf - at));
        }
        r.put<std::uint16_t>(leaf_vtable, 6);      // Leaf's vtable: 6 bytes,
        r.put<std::uint16_t>(leaf_vtable + 2, 8);  //   table of 8 bytes,
        r.put<std::uint16_t>(leaf_vtable + 4, 4);  //   v at 4
        r.put<std::int32_t>(leaf, 8);              // Leaf: vtable 8 bytes before
        r.put<std::int32_t>(leaf + 4, 7);
        return r;
    };
    const auto few = schema.to_json(record(3).bytes);
    ASSERT_TRUE(few) << few.reason;
    EXPECT_EQ(few.text, R"({"leaves":[{"v":7},{"v":7},{"v":7}]})");
    // The root is a table too: max_tables - 1 leaves are the most.
    expect_rejected(record(TableSchema::max_tables),
                    {"element 999999 of field 'leaves' (id 0) of u.Many: table u.Leaf at",
                     "more than 1000000 tables in the record"},
                    schema);
}

TEST(TableVerifier, ARequiredFieldThatIsAbsentIsRejected) {
    const std::string text = "namespace u; table R { a: int; s: string (required); } root_type R;";
    const auto schema = shmrec_test::table_schema(text, "u.R");
    auto r = Record{shmrec_test::table_record(text, R"({ a: 1, s: "x" })")};
    ASSERT_TRUE(schema.to_json(r.bytes));
    r.put<std::uint16_t>(r.slot(r.root(), 1), 0);
    expect_rejected(r, {"field 's' (id 1) of u.R: required, but absent"}, schema);
}

// Every kind of field the text generator prints: every scalar inline and in vectors (8-byte
// elements 8-aligned), enums, a struct holding a struct and an array, a struct of 8-byte
// alignment in a vector, strings, tables, vectors of them, and a nested FlatBuffer and a
// FlexBuffer (printed as their bytes: json_nested_flatbuffers and json_nested_flexbuffers are
// off, so the generator reads nothing inside them).
const std::string every_schema_text = R"(
namespace v;
enum Level : ushort { Low = 1, High = 300 }
struct Pair { a: byte; d: double; }
struct Wrap { p: Pair; n: [short:2]; }
table Leaf { s: string; }
table All {
  b: bool; i8: byte; u8: ubyte; i16: short; u16: ushort; i32: int; u32: uint;
  i64: long; u64: ulong; f32: float; f64: double; level: Level = Low;
  s: string; wrap: Wrap; leaf: Leaf;
  bs: [bool]; i8s: [byte]; u8s: [ubyte]; i16s: [short]; u16s: [ushort]; i32s: [int];
  u32s: [uint]; i64s: [long]; u64s: [ulong]; f32s: [float]; f64s: [double]; levels: [Level];
  ss: [string]; pairs: [Pair]; leaves: [Leaf];
  nested: [ubyte] (nested_flatbuffer: "Leaf");
  flex: [ubyte] (flexbuffer);
}
root_type All;
)";

const std::string every_record = R"({
  b: true, i8: -8, u8: 200, i16: -16000, u16: 65000, i32: -2000000000, u32: 4000000000,
  i64: -9000000000000, u64: 18000000000000000000, f32: 0.5, f64: -0.125, level: High,
  s: "süß", wrap: { p: { a: 1, d: 2.5 }, n: [-1, 2] }, leaf: { s: "in" },
  bs: [true, false], i8s: [-1], u8s: [255, 0], i16s: [-3], u16s: [4], i32s: [-5], u32s: [6],
  i64s: [-7, 8], u64s: [9], f32s: [1.5], f64s: [0.25, -2.0], levels: [Low, High],
  ss: ["x", ""], pairs: [{ a: -1, d: 1.0 }, { a: 2, d: 3.0 }], leaves: [{ s: "l" }, {}],
  nested: { s: "n" }, flex: { k: [1, "two"] }
})";

TEST(TableVerifier, EveryKindOfFieldStillDecodes) {
    const auto schema = shmrec_test::table_schema(every_schema_text, "v.All");
    const auto r = schema.to_json(shmrec_test::table_record(every_schema_text, every_record));
    ASSERT_TRUE(r) << r.reason;
    const json expected = json::parse(R"({
        "b": true, "i8": -8, "u8": 200, "i16": -16000, "u16": 65000, "i32": -2000000000,
        "u32": 4000000000, "i64": -9000000000000, "u64": 18000000000000000000, "f32": 0.5,
        "f64": -0.125, "level": "High", "s": "süß",
        "wrap": {"p": {"a": 1, "d": 2.5}, "n": [-1, 2]}, "leaf": {"s": "in"},
        "bs": [true, false], "i8s": [-1], "u8s": [255, 0], "i16s": [-3], "u16s": [4],
        "i32s": [-5], "u32s": [6], "i64s": [-7, 8], "u64s": [9], "f32s": [1.5],
        "f64s": [0.25, -2.0], "levels": ["Low", "High"], "ss": ["x", ""],
        "pairs": [{"a": -1, "d": 1.0}, {"a": 2, "d": 3.0}], "leaves": [{"s": "l"}, {}]})");
    auto decoded = json::parse(r.text);
    // The nested FlatBuffer and the FlexBuffer as their bytes.
    for (const auto* bytes : {"nested", "flex"}) {
        ASSERT_TRUE(decoded.at(bytes).is_array()) << r.text;
        EXPECT_GE(decoded.at(bytes).size(), 8u);
        EXPECT_TRUE(decoded.at(bytes).at(0).is_number_unsigned()) << r.text;
        decoded.erase(bytes);
    }
    EXPECT_EQ(decoded, expected) << r.text;
}

TEST(TableVerifier, MisalignedVectorsAndVectorElementsAreRejected) {
    auto nums = rec(R"({ nums: [1, 2, 3] })");
    const auto field = nums.field(nums.root(), nums_id);
    nums.put<std::uint32_t>(field, nums.get<std::uint32_t>(field) + 2);
    expect_rejected(nums, {"field 'nums' (id 3) of t.Rec: vector at", "is not 4-aligned"});

    // f64s moved 4 bytes on, a length of 1 written there: its double 4 bytes off 8.
    const auto schema = shmrec_test::table_schema(every_schema_text, "v.All");
    Record all{shmrec_test::table_record(every_schema_text, every_record)};
    constexpr int f64s_id = 25;
    const auto f64s = all.field(all.root(), f64s_id);
    const auto vector = all.target(all.root(), f64s_id);
    ASSERT_EQ((vector + 4) % 8, 0u);
    all.put<std::uint32_t>(f64s, all.get<std::uint32_t>(f64s) + 4);
    all.put<std::uint32_t>(vector + 4, 1);
    expect_rejected(all,
                    {"field 'f64s' (id 25) of v.All: vector of 1 double values (8 bytes each) at " +
                     std::to_string(vector + 4) + ": the elements at " +
                     std::to_string(vector + 8) + " are not 8-aligned"},
                    schema);
}

TEST(TableVerifier, EveryTruncationAndBitFlipOfEveryKindIsJsonOrRefused) {
    const auto schema = shmrec_test::table_schema(every_schema_text, "v.All");
    EXPECT_GT(shmrec_test::expect_json_or_refused_when_damaged(
                  schema, shmrec_test::table_record(every_schema_text, every_record)),
              0);
}

}  // namespace
