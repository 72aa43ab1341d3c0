// Schema evolution checked on attach (runtime/src/schema_evolution.*, docs/schema-evolution.md):
// every rule in both directions, FlatBuffers' own Parser::ConformTo measured beside it on the
// same pairs, hostile region schemas, and the field-level explanation of a struct region's
// fingerprint mismatch.
//
// The ConformTo columns pin what FlatBuffers 2.0.8 says. Where it misses an incompatibility or
// refuses a compatible pair, our checker is the one to trust; if a newer FlatBuffers changes
// an answer, the case fails here and docs/schema-evolution.md's gap table wants updating.
#include <flatbuffers/idl.h>
#include <flatbuffers/reflection_generated.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "expect_error.hpp"
#include "schema_evolution.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/detail/channel_setup.hpp"
#include "shmrec/region.hpp"
#include "student.shmrec.hpp"
#include "test_names.hpp"

namespace {

using shmrec::detail::check_table_evolution;
using shmrec::detail::describe_struct_mismatch;
using shmrec::detail::EvolutionResult;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;

// A parsed schema (for ConformTo) and its binary form with builtins, as shmrec-gen embeds it
// (codegen/src/load_schema.cpp).
struct Schema {
    std::unique_ptr<flatbuffers::Parser> parser;
    Bytes bfbs;
};

Schema parse(const std::string& text) {
    Schema s{std::make_unique<flatbuffers::Parser>(), {}};
    EXPECT_TRUE(s.parser->Parse(text.c_str())) << s.parser->error_ << "\n" << text;
    s.parser->opts.binary_schema_builtins = true;
    s.parser->Serialize();
    const auto* p = s.parser->builder_.GetBufferPointer();
    s.bfbs.assign(p, p + s.parser->builder_.GetSize());
    return s;
}

// "namespace school; <definitions> root_type Enrolment;"
std::string school(const std::string& definitions) {
    return "namespace school;\n" + definitions + "\nroot_type Enrolment;\n";
}

std::string all_lines(const EvolutionResult& r) {
    std::vector<std::string> lines;
    for (const auto& d : r.differences) lines.push_back(d.line());
    return fmt::format("{}", fmt::join(lines, "\n"));
}

std::string all_notes(const EvolutionResult& r) {
    std::vector<std::string> lines;
    for (const auto& d : r.notes) lines.push_back(d.line());
    return fmt::format("{}", fmt::join(lines, "\n"));
}

EvolutionResult check(const Schema& writer, const Schema& reader,
                      std::string_view root = "school.Enrolment") {
    return check_table_evolution(writer.bfbs, reader.bfbs, root);
}

// ---------------------------------------------------------------------------------------------
// The matrix: one writer/reader pair per rule and direction.

struct Case {
    const char* name;
    std::string writer, reader;  // whole schema texts
    bool compatible;
    // Each must occur in the differences (incompatible) or the notes (compatible).
    std::vector<std::string> mentions;
    // What FlatBuffers 2.0.8 says, "" = conforms: the writer's schema as the new one
    // (writer.ConformTo(reader), as `flatc --conform reader.fbs writer.fbs`), and the other way.
    std::string conform_writer_new, conform_reader_new;
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.name;
}

const std::string enrolment = R"(
table Enrolment { student: string; course: uint; grade: float; }
)";

std::vector<Case> cases() {
    const auto e = [](const std::string& fields) {
        return school("table Enrolment { " + fields + " }");
    };
    const std::string base = school(enrolment);
    const std::string grade_enum = "enum Grade: byte { Fail, Pass, Merit }\n";
    const std::string point = "struct Point { x: float; y: float; }\n";
    const std::string point3 = "struct Point { x: float; y: float; z: float; }\n";
    const std::string payload = "table Text { body: string; } table Video { url: string; }\n";
    return {
        {"IdenticalSchemas", base, base, true, {}, "", ""},
        {"WriterAddsTrailingField",
         e("student: string; course: uint; grade: float; credits: int;"),
         base,
         true,
         {},
         "",
         ""},
        {"ReaderAddsTrailingField",
         base,
         e("student: string; course: uint; grade: float; credits: int;"),
         true,
         {},
         "",
         ""},
        {"ReaderAddsRequiredField",
         base,
         e("student: string; course: uint; grade: float; tutor: string (required);"),
         false,
         {"field 'tutor' (id 3) is required by this reader but absent there"},
         "",
         ""},
        {"FieldWidenedByWriter",
         e("student: string; course: uint; grade: double;"),
         base,
         false,
         {"school.Enrolment: field 'grade' (id 2) is double there, this reader expects float"},
         "types differ for field: grade",
         "types differ for field: grade"},
        {"FieldNarrowedByWriter",
         e("student: string; course: ushort; grade: float;"),
         base,
         false,
         {"field 'course' (id 1) is ushort there, this reader expects uint"},
         "types differ for field: course",
         "types differ for field: course"},
        {"SignednessChanged",
         e("student: string; course: int; grade: float;"),
         base,
         false,
         {"field 'course' (id 1) is int there, this reader expects uint"},
         "types differ for field: course",
         "types differ for field: course"},
        {"StringBecameBytes",
         e("student: [ubyte]; course: uint; grade: float;"),
         base,
         false,
         {"field 'student' (id 0) is [ubyte] there, this reader expects string"},
         "types differ for field: student",
         "types differ for field: student"},
        {"RenamedSameIdSameType",
         e("student: string; course: uint; mark: float;"),
         base,
         true,
         {"field 'grade' (id 2) is named 'mark' there"},
         "",
         ""},
        {"RenamedSameIdOtherType",
         e("student: string; course: uint; mark: double;"),
         base,
         false,
         {"field 'grade' (id 2) is double there, this reader expects float"},
         "field renamed to different type: mark",
         "field renamed to different type: grade"},
        {"IdsSwapped",
         e("student: string (id: 0); grade: float (id: 1); course: float (id: 2);"),
         e("student: string; course: float; grade: float;"),
         false,
         {"field 'course' has id 2 there, this reader expects id 1",
          "field 'grade' has id 1 there, this reader expects id 2"},
         "offsets differ for field: grade",
         "offsets differ for field: course"},
        {"FieldRemovedInsteadOfDeprecated",
         e("student: string; grade: float;"),
         base,
         false,
         {"field 'grade' has id 1 there, this reader expects id 2",
          "field 'course' (id 1) is float there, this reader expects uint"},
         "offsets differ for field: grade",
         "field renamed to different type: course"},
        {"DeprecatedByWriter",
         e("student: string; course: uint (deprecated); grade: float;"),
         base,
         true,
         {"field 'course' (id 1) is deprecated there: this reader reads its default"},
         "",
         ""},
        {"DeprecatedByReader",
         base,
         e("student: string; course: uint (deprecated); grade: float;"),
         true,
         {},
         "",
         ""},
        {"DeprecatedByWriterRequiredByReader",
         e("student: string (deprecated); course: uint; grade: float;"),
         e("student: string (required); course: uint; grade: float;"),
         false,
         {"field 'student' (id 0) is deprecated there, this reader requires it"},
         "",
         ""},
        {"DefaultChanged",
         e("student: string; course: uint; grade: float = 1.5;"),
         base,
         false,
         {"field 'grade' (id 2) defaults to 1.5 there, this reader expects 0"},
         "defaults differ for field: grade",
         "defaults differ for field: grade"},
        {"IntegerDefaultChanged",
         e("student: string; course: uint = 7; grade: float;"),
         base,
         false,
         {"field 'course' (id 1) defaults to 7 there, this reader expects 0"},
         "defaults differ for field: course",
         "defaults differ for field: course"},
        {"OptionalScalarByWriter",
         e("student: string; course: uint; grade: float = null;"),
         base,
         false,
         {"field 'grade' (id 2) defaults to null there, this reader expects 0"},
         "defaults differ for field: grade",
         "defaults differ for field: grade"},
        {"RequiredByReaderOnly",
         base,
         e("student: string (required); course: uint; grade: float;"),
         false,
         {"field 'student' (id 0) is not required there, this reader requires it"},
         "",
         ""},
        {"RequiredByWriterOnly",
         e("student: string (required); course: uint; grade: float;"),
         base,
         true,
         {},
         "",
         ""},
        {"VectorElementChanged",
         e("student: string; course: uint; grades: [double];"),
         e("student: string; course: uint; grades: [float];"),
         false,
         {"field 'grades' (id 2) is [double] there, this reader expects [float]"},
         "types differ for field: grades",
         "types differ for field: grades"},
        {"NestedTableFieldChanged",
         school(
             "table Course { code: long; } table Enrolment { student: string; course: Course; }"),
         school("table Course { code: int; } table Enrolment { student: string; course: Course; }"),
         false,
         {"school.Course (via school.Enrolment.course): field 'code' (id 0) is long there, this "
          "reader expects int"},
         "types differ for field: code",
         "types differ for field: code"},
        {"NestedTableRenamedSameShape",
         school(
             "table Lecture { code: int; } table Enrolment { student: string; course: Lecture; }"),
         school("table Course { code: int; } table Enrolment { student: string; course: Course; }"),
         true,
         {},
         "types differ for field: course",
         "types differ for field: course"},
        {"TableBecameStruct",
         school("table Point { x: float; y: float; } table Enrolment { at: Point; }"),
         school(point + "table Enrolment { at: Point; }"),
         false,
         {"field 'at' (id 0) is table school.Point there, this reader expects struct school.Point"},
         // Caught by accident: ConformTo compares the table and the struct of one name field
         // by field, and a table field's offset is its vtable slot.
         "offsets differ for field: x",
         "offsets differ for field: x"},
        {"StructGrownByWriter",
         school(point3 + "table Enrolment { at: Point; }"),
         school(point + "table Enrolment { at: Point; }"),
         false,
         {"school.Point (via school.Enrolment.at): 12 bytes aligned to 4 there, this reader "
          "expects 8 bytes aligned to 4",
          "field 'z' (float at offset 8) is there only"},
         "",
         ""},
        {"StructGrownByReader",
         school(point + "table Enrolment { at: Point; }"),
         school(point3 + "table Enrolment { at: Point; }"),
         false,
         {"8 bytes aligned to 4 there, this reader expects 12 bytes aligned to 4",
          "field 'z' (float at offset 8) is not there, only in this reader's schema"},
         "",
         ""},
        {"StructFieldRenamed",
         school("struct Point { x: float; h: float; } table Enrolment { at: Point; }"),
         school(point + "table Enrolment { at: Point; }"),
         true,
         {"field at offset 4 is 'h' there, this reader names it 'y'"},
         "",
         ""},
        {"StructInVectorChanged",
         school("struct Point { x: float; y: double; } table Enrolment { path: [Point]; }"),
         school(point + "table Enrolment { path: [Point]; }"),
         false,
         {"field 'y' (offset 4) is double there, this reader expects float",
          "field 'y' is at offset 8 there, this reader expects offset 4"},
         "offsets differ for field: y",
         "offsets differ for field: y"},
        {"EnumValueAddedByReader",
         school(grade_enum + "table Enrolment { grade: Grade; }"),
         school("enum Grade: byte { Fail, Pass, Merit, Distinction }\n"
                "table Enrolment { grade: Grade; }"),
         true,
         {},
         "",
         ""},
        {"EnumValueAddedByWriter",
         school("enum Grade: byte { Fail, Pass, Merit, Distinction }\n"
                "table Enrolment { grade: Grade; }"),
         school(grade_enum + "table Enrolment { grade: Grade; }"),
         false,
         {"school.Grade (via school.Enrolment.grade): value 'Distinction' (3) exists there only: "
          "the writer may send a value this reader does not know"},
         "",
         ""},
        {"EnumValueRenumbered",
         school("enum Grade: byte { Fail = 1, Pass, Merit }\ntable Enrolment { grade: Grade = "
                "Pass; }"),
         school("enum Grade: byte { Fail, Pass, Merit }\ntable Enrolment { grade: Grade = Pass; }"),
         false,
         {"value 'Fail' is 1 there, this reader expects 0"},
         "defaults differ for field: grade",
         "defaults differ for field: grade"},
        {"EnumValueRenamed",
         school("enum Grade: byte { Fail, Pass, Good }\ntable Enrolment { grade: Grade; }"),
         school(grade_enum + "table Enrolment { grade: Grade; }"),
         true,
         {"value 2 is 'Good' there, 'Merit' in this reader's schema"},
         "",
         ""},
        {"EnumUnderlyingTypeChanged",
         school("enum Grade: short { Fail, Pass, Merit }\ntable Enrolment { grade: Grade; }"),
         school(grade_enum + "table Enrolment { grade: Grade; }"),
         false,
         {"field 'grade' (id 0) is school.Grade (a short enum) there, this reader expects "
          "school.Grade (a byte enum)"},
         "types differ for field: grade",
         "types differ for field: grade"},
        {"UnionVariantAddedByReader",
         school(payload + "union Payload { Text }\ntable Enrolment { note: Payload; }"),
         school(payload + "union Payload { Text, Video }\ntable Enrolment { note: Payload; }"),
         true,
         {},
         "",
         ""},
        {"UnionVariantAddedByWriter",
         school(payload + "union Payload { Text, Video }\ntable Enrolment { note: Payload; }"),
         school(payload + "union Payload { Text }\ntable Enrolment { note: Payload; }"),
         false,
         {"variant 'Video' (2) exists there only: the writer may send a variant this reader "
          "does not know"},
         "",
         ""},
        {"UnionVariantTableChanged",
         school("table Text { body: int; } union Payload { Text }\n"
                "table Enrolment { note: Payload; }"),
         school("table Text { body: string; } union Payload { Text }\n"
                "table Enrolment { note: Payload; }"),
         false,
         {"school.Text (via school.Payload.Text): field 'body' (id 0) is int there, this reader "
          "expects string"},
         "types differ for field: body",
         "types differ for field: body"},
        {"UnreachableTypeChanged",
         school(enrolment + "table Audit { at: long; }"),
         school(enrolment + "table Audit { at: int; }"),
         true,
         {},
         "types differ for field: at",
         "types differ for field: at"},
        {"RecursiveTableUnchanged",
         school("table Enrolment { grade: float; next: Enrolment; }"),
         school("table Enrolment { grade: float; next: Enrolment; }"),
         true,
         {},
         "",
         ""},
        {"RecursiveTableChanged",
         school("table Enrolment { grade: double; next: Enrolment; }"),
         school("table Enrolment { grade: float; next: Enrolment; }"),
         false,
         {"field 'grade' (id 0) is double there"},
         "types differ for field: grade",
         "types differ for field: grade"},
    };
}

class EvolutionMatrix : public ::testing::TestWithParam<Case> {};

TEST_P(EvolutionMatrix, CheckerAndConformTo) {
    const Case& c = GetParam();
    const auto writer = parse(c.writer);
    const auto reader = parse(c.reader);
    const auto result = check(writer, reader);
    ASSERT_EQ(result.error, "");
    EXPECT_EQ(result.compatible, c.compatible) << all_lines(result);
    EXPECT_EQ(result.differences.empty(), c.compatible) << all_lines(result);
    const auto text = c.compatible ? all_notes(result) : all_lines(result);
    for (const auto& m : c.mentions) EXPECT_THAT(text, HasSubstr(m));
    // The oracle, both ways round (ConformTo is name-based and one-directional).
    EXPECT_EQ(writer.parser->ConformTo(*reader.parser), c.conform_writer_new)
        << "writer.ConformTo(reader)";
    EXPECT_EQ(reader.parser->ConformTo(*writer.parser), c.conform_reader_new)
        << "reader.ConformTo(writer)";
}

INSTANTIATE_TEST_SUITE_P(Rules, EvolutionMatrix, ::testing::ValuesIn(cases()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// ---------------------------------------------------------------------------------------------
// Cases outside the matrix.

// An enum on one side and its plain underlying type on the other: FlatBuffers 2.0.8's
// EqualByName dereferences the missing EnumDef, so ConformTo crashes on this pair.
TEST(SchemaEvolution, EnumReadByReaderFromPlainIntegerIsIncompatible) {
    const auto writer = parse(school("table Enrolment { grade: byte; }"));
    const auto reader =
        parse(school("enum Grade: byte { Fail, Pass }\n"
                     "table Enrolment { grade: Grade; }"));
    const auto result = check(writer, reader);
    EXPECT_FALSE(result.compatible);
    EXPECT_THAT(all_lines(result),
                HasSubstr("field 'grade' (id 0) is byte there, this reader expects school.Grade "
                          "(a byte enum) (the writer may send values the enum does not name)"));
    // The other way round, any value the writer's enum names is a byte the reader can hold.
    EXPECT_TRUE(check(reader, writer).compatible) << all_lines(check(reader, writer));
}

TEST(SchemaEvolutionDeathTest, ConformToCrashesOnEnumVersusPlainInteger) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const auto writer = parse(school("table Enrolment { grade: byte; }"));
    const auto reader =
        parse(school("enum Grade: byte { Fail, Pass }\n"
                     "table Enrolment { grade: Grade; }"));
    EXPECT_DEATH((void)reader.parser->ConformTo(*writer.parser), "");
    EXPECT_DEATH((void)writer.parser->ConformTo(*reader.parser), "");
}

TEST(SchemaEvolution, RootMissingInTheRegionsSchemaIsAnError) {
    const auto writer = parse("namespace school; table Other { x: int; } root_type Other;");
    const auto reader = parse(school(enrolment));
    const auto result = check(writer, reader);
    EXPECT_FALSE(result.compatible);
    EXPECT_THAT(result.error, HasSubstr("the region's schema has no type school.Enrolment"));
}

TEST(SchemaEvolution, RootThatIsAStructInTheRegionsSchemaIsAnError) {
    const auto writer = parse("namespace school; struct Enrolment { x: int; }");
    const auto reader = parse(school(enrolment));
    const auto result = check(writer, reader);
    EXPECT_FALSE(result.compatible);
    EXPECT_THAT(result.error,
                HasSubstr("school.Enrolment is a struct in the region's schema, this reader "
                          "expects a table"));
}

TEST(SchemaEvolution, RootMissingInTheReadersSchemaIsAnError) {
    const auto schema = parse(school(enrolment));
    const auto result = check(schema, schema, "school.Nothing");
    EXPECT_FALSE(result.compatible);
    EXPECT_THAT(result.error, HasSubstr("this reader's schema has no table school.Nothing"));
}

TEST(SchemaEvolution, ManyDifferencesAreCappedAndCounted) {
    std::string wide_w, wide_r;
    for (int i = 0; i < 40; ++i) {
        wide_w += fmt::format("f{}: long; ", i);
        wide_r += fmt::format("f{}: int; ", i);
    }
    const auto result = check(parse(school("table Enrolment { " + wide_w + "}")),
                              parse(school("table Enrolment { " + wide_r + "}")));
    EXPECT_EQ(result.differences.size(), shmrec::detail::max_reported_differences);
    EXPECT_EQ(result.omitted, 40 - shmrec::detail::max_reported_differences);
    EXPECT_THAT(
        shmrec::detail::explain_incompatibility(result, "region 'grades'", "school.Enrolment"),
        HasSubstr("; and 8 more differences"));
}

TEST(SchemaEvolution, ExplanationNamesTheRegionTheRootAndBothSides) {
    const auto result = check(parse(school("table Course { code: long; }\n"
                                           "table Enrolment { course: Course; grade: double; }")),
                              parse(school("table Course { code: int; }\n"
                                           "table Enrolment { course: Course; grade: float; }")));
    EXPECT_EQ(
        shmrec::detail::explain_incompatibility(result, "region 'grades'", "school.Enrolment"),
        "region 'grades' holds school.Enrolment: field 'grade' (id 1) is double there, this "
        "reader expects float; school.Course (via school.Enrolment.course): field 'code' "
        "(id 0) is long there, this reader expects int");
}

// ---------------------------------------------------------------------------------------------
// Hostile region schemas: errors, never a crash or a hang.

TEST(SchemaEvolutionHostile, EmptyTruncatedAndGarbageSchemasAreErrors) {
    const auto good = parse(school(enrolment));
    const auto expect_error = [&](const Bytes& writer, const char* mentions) {
        const auto result = check_table_evolution(writer, good.bfbs, "school.Enrolment");
        EXPECT_FALSE(result.compatible);
        EXPECT_THAT(result.error,
                    AllOf(HasSubstr("the region's binary schema"), HasSubstr(mentions)))
            << writer.size() << " bytes";
    };
    expect_error({}, "is empty");
    for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{8}, good.bfbs.size() / 2,
                          good.bfbs.size() - 1}) {
        expect_error(Bytes(good.bfbs.begin(), good.bfbs.begin() + static_cast<long>(n)),
                     "not a valid FlatBuffers schema");
    }
    expect_error(Bytes(shmrec::detail::max_compared_schema + 1, 0), "more than the");
    // Random bytes behind a valid-looking header: the verifier must reject them all.
    std::mt19937 rng(20240611);
    for (int round = 0; round < 300; ++round) {
        Bytes junk(64 + rng() % 512);
        for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
        std::copy_n("BFBS", 4, junk.begin() + 4);
        const auto result = check_table_evolution(junk, good.bfbs, "school.Enrolment");
        EXPECT_FALSE(result.compatible);
    }
    // Each byte of a real schema flipped in turn: a verdict or an error, never a crash
    // (ASan builds see every stray read).
    for (std::size_t i = 0; i < good.bfbs.size(); ++i) {
        Bytes flipped = good.bfbs;
        flipped[i] ^= 0xA5;
        (void)check_table_evolution(flipped, good.bfbs, "school.Enrolment");
    }
}

// A schema built by hand with reflection's builders: one table whose field points at
// `type_index`, and optionally a second field with the same id.
Bytes handmade_schema(reflection::BaseType base, int type_index, bool duplicate_id = false) {
    flatbuffers::FlatBufferBuilder b;
    std::vector<flatbuffers::Offset<reflection::Field>> fields;
    fields.push_back(reflection::CreateField(
        b, b.CreateString("grade"), reflection::CreateType(b, base, reflection::None, type_index),
        0, 4));
    if (duplicate_id) {
        fields.push_back(reflection::CreateField(
            b, b.CreateString("mark"), reflection::CreateType(b, reflection::Float), 0, 4));
    }
    const auto object = reflection::CreateObject(b, b.CreateString("school.Enrolment"),
                                                 b.CreateVectorOfSortedTables(&fields));
    std::vector<flatbuffers::Offset<reflection::Object>> objects{object};
    std::vector<flatbuffers::Offset<reflection::Enum>> enums;
    b.Finish(reflection::CreateSchema(b, b.CreateVector(objects), b.CreateVector(enums)),
             reflection::SchemaIdentifier());
    return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

TEST(SchemaEvolutionHostile, IndexOutOfRangeIsAnError) {
    const auto reader =
        parse(school("table Course { code: int; }\n"
                     "table Enrolment { grade: Course; }"));
    for (const int index : {1, 99, -5, 0x7fffffff}) {
        const auto result = check_table_evolution(handmade_schema(reflection::Obj, index),
                                                  reader.bfbs, "school.Enrolment");
        EXPECT_FALSE(result.compatible);
        EXPECT_THAT(result.error,
                    HasSubstr(fmt::format("the region's schema is corrupt: field 'grade' (id 0) "
                                          "of school.Enrolment refers to object #{} of 1",
                                          index)));
    }
    const auto enum_reader = parse(school("union U { Enrolment } table Enrolment { grade: U; }"));
    // Field 0 of the reader is the union's hidden type field, grade_type.
    const auto result = check_table_evolution(handmade_schema(reflection::UType, 3),
                                              enum_reader.bfbs, "school.Enrolment");
    EXPECT_THAT(result.error, HasSubstr("field 'grade_type' (id 0) of school.Enrolment refers to "
                                        "union #3 of 0"));
}

TEST(SchemaEvolutionHostile, SelfReferencingStructEnds) {
    // "school.Enrolment" as a struct whose field is itself: no honest schema, but a cycle
    // the work list must not follow forever.
    const auto writer = handmade_schema(reflection::Obj, 0);
    const auto reader = parse(school("table Enrolment { grade: Enrolment; }"));
    const auto result = check_table_evolution(writer, reader.bfbs, "school.Enrolment");
    EXPECT_TRUE(result.error.empty()) << result.error;
    EXPECT_TRUE(result.compatible) << all_lines(result);
}

TEST(SchemaEvolutionHostile, DuplicateFieldIdIsAnError) {
    const auto reader = parse(school("table Enrolment { grade: float; }"));
    const auto result = check_table_evolution(handmade_schema(reflection::Float, -1, true),
                                              reader.bfbs, "school.Enrolment");
    EXPECT_THAT(result.error, HasSubstr("school.Enrolment has two fields with id 0"));
}

// The shape that makes reflection::VerifySchemaBuffer take seconds (a table shared by many
// offsets, each visit re-walking a long documentation vector): verified once here, and the
// documentation is never walked.
TEST(SchemaEvolutionHostile, SharedTablesDoNotMultiplyTheWork) {
    flatbuffers::FlatBufferBuilder b;
    const auto s = b.CreateString("x");
    const auto docs =
        b.CreateVector(std::vector<flatbuffers::Offset<flatbuffers::String>>(120'000, s));
    std::vector<flatbuffers::Offset<reflection::Field>> no_fields;
    const auto object = reflection::CreateObject(b, b.CreateString("school.Enrolment"),
                                                 b.CreateVector(no_fields), false, 0, 0, 0, docs);
    std::vector<flatbuffers::Offset<reflection::Object>> objects(120'000, object);
    std::vector<flatbuffers::Offset<reflection::Enum>> enums;
    b.Finish(reflection::CreateSchema(b, b.CreateVector(objects), b.CreateVector(enums)),
             reflection::SchemaIdentifier());
    const Bytes writer(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
    const auto reader = parse(school("table Enrolment { grade: float; }"));
    const auto start = std::chrono::steady_clock::now();
    const auto result = check_table_evolution(writer, reader.bfbs, "school.Enrolment");
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(result.error.empty()) << result.error;
    EXPECT_TRUE(result.compatible);  // the reader's only field is a trailing addition
    // Linear work takes milliseconds; 120 000 visits of 120 000 strings would take seconds.
    EXPECT_LT(took, std::chrono::milliseconds(500));
}

// ---------------------------------------------------------------------------------------------
// Struct records: the field-level explanation of a layout mismatch.

std::string student_with(const std::string& fields) {
    return "namespace school;\nstruct Student { " + fields + " }\n";
}

TEST(StructMismatch, NamesEachDifferingFieldWithBothSides) {
    const auto region = parse(student_with("id: ulong; name: [ubyte:24]; extra: int;"));
    const auto own = parse(student_with("id: long; name: [ubyte:20];"));
    const auto lines = describe_struct_mismatch(region.bfbs, own.bfbs, "school.Student");
    const auto text = fmt::format("{}", fmt::join(lines, "\n"));
    EXPECT_THAT(text, HasSubstr("school.Student: 40 bytes aligned to 8 there, this program "
                                "expects 32 bytes aligned to 8"));
    EXPECT_THAT(text, HasSubstr("field 'id' (offset 0) is ulong there, this program expects long"));
    EXPECT_THAT(text, HasSubstr("field 'name' (offset 8) is [ubyte:24] there, this program "
                                "expects [ubyte:20]"));
    EXPECT_THAT(text, HasSubstr("field 'extra' (int at offset 32) is there only, not in this "
                                "program's schema"));
    EXPECT_EQ(lines.size(), 4u) << text;
}

TEST(StructMismatch, RenamesAndNestedTypeNamesCountAsTheFingerprintDoes) {
    const auto region = parse(
        "namespace geo; struct Vec { x: float; h: float; }\n"
        "struct Pose { at: Vec; heading: float; }");
    const auto own = parse(
        "namespace geo; struct Point { x: float; y: float; }\n"
        "struct Pose { at: Point; heading: float; }");
    const auto text = fmt::format(
        "{}", fmt::join(describe_struct_mismatch(region.bfbs, own.bfbs, "geo.Pose"), "\n"));
    EXPECT_THAT(text, HasSubstr("field 'at' (offset 0) is struct geo.Vec there, this program "
                                "expects struct geo.Point"));
    const auto inner = parse("namespace geo; struct Point { x: float; h: float; }");
    const auto own_inner = parse("namespace geo; struct Point { x: float; y: float; }");
    EXPECT_THAT(
        fmt::format(
            "{}",
            fmt::join(describe_struct_mismatch(inner.bfbs, own_inner.bfbs, "geo.Point"), "\n")),
        HasSubstr("field at offset 4 is 'h' there, this program names it 'y'"));
}

TEST(StructMismatch, NothingToSayForEqualUnreadableOrMissingSchemas) {
    const auto own = parse(student_with("id: long; name: [ubyte:20];"));
    EXPECT_TRUE(describe_struct_mismatch(own.bfbs, own.bfbs, "school.Student").empty());
    EXPECT_TRUE(describe_struct_mismatch(Bytes{1, 2, 3}, own.bfbs, "school.Student").empty());
    EXPECT_TRUE(describe_struct_mismatch(own.bfbs, own.bfbs, "school.Nobody").empty());
}

class FingerprintMismatch : public shmrec_test::RegionFixture {};

// A region created for one layout of school.Student (same name, size and alignment, other
// fields), opened by a program built for the real one: the error keeps its first sentence
// and explains the difference field by field.
TEST_F(FingerprintMismatch, OpenExplainsTheLayoutDifferenceFieldByField) {
    const auto n = name();
    const auto own_spec =
        shmrec::detail::channel_spec<shmrec::detail::CellDescriptor, school::Student>(2);
    const auto other = parse(student_with("id: ulong; name: [ubyte:20];"));
    auto region_spec = own_spec;
    region_spec.fingerprint ^= 1;
    region_spec.binary_schema = other.bfbs;
    auto writer = shmrec::Region::create(n, region_spec);
    std::string what;
    ASSERT_TRUE(shmrec_test::fails_with(
        [&] { (void)shmrec::Region::open(n, shmrec::Role::reader, own_spec); },
        shmrec::ErrorCode::fingerprint_mismatch, &what));
    EXPECT_THAT(what, HasSubstr("holds school.Student with layout fingerprint"));
    EXPECT_THAT(what, HasSubstr("(the schema changed; rebuild both sides from one schema): "
                                "school.Student: field 'id' (offset 0) is ulong there, this "
                                "program expects long"));
}

TEST_F(FingerprintMismatch, WithoutAnEmbeddedSchemaTheMessageIsAsBefore) {
    const auto n = name();
    const auto own_spec =
        shmrec::detail::channel_spec<shmrec::detail::CellDescriptor, school::Student>(2);
    auto region_spec = own_spec;
    region_spec.fingerprint ^= 1;
    region_spec.binary_schema = {};
    auto writer = shmrec::Region::create(n, region_spec);
    std::string what;
    ASSERT_TRUE(shmrec_test::fails_with(
        [&] { (void)shmrec::Region::open(n, shmrec::Role::reader, own_spec); },
        shmrec::ErrorCode::fingerprint_mismatch, &what));
    EXPECT_THAT(what, ::testing::EndsWith("(the schema changed; rebuild both sides from one "
                                          "schema)"));
}

}  // namespace
