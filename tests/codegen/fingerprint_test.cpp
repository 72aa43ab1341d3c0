// The layout fingerprint: which schema changes must change it, which must not, and the
// pinned value that catches an accidental change of the algorithm.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

#include "enrolment.shmrec.hpp"
#include "fingerprint.hpp"
#include "load_schema.hpp"
#include "student.shmrec.hpp"
#include "test_support.hpp"

namespace codegen_test {
namespace {

using shmrec::codegen::Schema;

Schema load(const std::string& path) {
    std::vector<std::string> errors;
    auto schema = shmrec::codegen::load_schema(path, {}, errors);
    EXPECT_TRUE(schema.has_value()) << path << ": " << (errors.empty() ? "" : errors[0]);
    return schema ? std::move(*schema) : Schema{};
}

std::uint64_t fingerprint_of(const std::string& file, const std::string& type) {
    const Schema schema = load((schemas_dir / "fingerprint" / file).string());
    const auto* s = schema.find_struct(type);
    EXPECT_NE(s, nullptr) << type << " in " << file;
    return s ? shmrec::codegen::fingerprint(schema, *s) : 0;
}

std::uint64_t v1() {
    return fingerprint_of("v1.fbs", "fp.Rec");
}

// If this fails, the fingerprint algorithm changed: every region written by an older build
// is now "incompatible". Only change the pinned values together with the "v1" tag in
// fingerprint.cpp and docs/codegen.md.
TEST(Fingerprint, StudentValueIsPinned) {
    const Schema schema = load(CODEGEN_STUDENT_SCHEMA);
    const auto* s = schema.find_struct("school.Student");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(shmrec::codegen::canonical_layout(schema, *s),
              "shmrec-layout v1\n"
              "struct school.Student size 32 align 8\n"
              "  field id long offset 0 size 8\n"
              "  field name [ubyte:20] offset 8 size 20 length 20\n");
    EXPECT_EQ(shmrec::codegen::fingerprint(schema, *s), 0xd69b7e078e1d4063ULL);
    EXPECT_EQ(shmrec::RecordTraits<school::Student>::fingerprint, 0xd69b7e078e1d4063ULL);
}

TEST(Fingerprint, IsFnv1a64) {
    // Published FNV-1a 64 test vectors.
    EXPECT_EQ(shmrec::codegen::fnv1a64(""), 0xcbf29ce484222325ULL);
    EXPECT_EQ(shmrec::codegen::fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
    EXPECT_EQ(shmrec::codegen::fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Fingerprint, IsStableAcrossLoads) {
    EXPECT_EQ(fingerprint_of("v1.fbs", "fp.Rec"), v1());
    EXPECT_EQ(fingerprint_of("v1.fbs", "fp.Rec"), v1());
}

TEST(Fingerprint, CommentsWhitespaceAndAttributesDoNotChangeIt) {
    EXPECT_EQ(fingerprint_of("comments_only.fbs", "fp.Rec"), v1());
}

TEST(Fingerprint, MarkingAByteArrayAsTextDoesNotChangeIt) {
    EXPECT_EQ(fingerprint_of("text_marked.fbs", "fp.Rec"), v1());
}

TEST(Fingerprint, AddingAnEnumeratorDoesNotChangeIt) {
    EXPECT_EQ(fingerprint_of("enum_value_added.fbs", "fp.Rec"), v1());
}

TEST(Fingerprint, EachLayoutChangeChangesIt) {
    struct Change {
        const char* file;
        const char* type;
    };
    const Change changes[] = {
        {"renamed_field.fbs", "fp.Rec"},         // field name
        {"changed_type.fbs", "fp.Rec"},          // float -> int, same size and offset
        {"reordered.fbs", "fp.Rec"},             // offsets
        {"array_length.fbs", "fp.Rec"},          // array length and size
        {"renamed_struct.fbs", "fp.Record"},     // struct name
        {"renamed_namespace.fbs", "fp.v2.Rec"},  // qualified name
        {"added_field.fbs", "fp.Rec"},           // trailing field, same struct size
        {"inner_changed.fbs", "fp.Rec"},         // a nested struct's field type
        {"enum_underlying.fbs", "fp.Rec"},       // ubyte -> byte, same size
        {"enum_renamed.fbs", "fp.Rec"},          // enum name
    };
    std::set<std::uint64_t> seen{v1()};
    for (const auto& c : changes) {
        SCOPED_TRACE(c.file);
        const std::uint64_t f = fingerprint_of(c.file, c.type);
        EXPECT_NE(f, v1());
        EXPECT_TRUE(seen.insert(f).second) << "two different changes gave one fingerprint";
    }
}

TEST(Fingerprint, TrailingFieldThatFitsThePaddingStillChangesIt) {
    // added_field.fbs puts a ubyte into what was tail padding: same size, same offsets of
    // the old fields, but a reader built for v1 would ignore it, so it is another layout.
    const Schema a = load((schemas_dir / "fingerprint" / "v1.fbs").string());
    const Schema b = load((schemas_dir / "fingerprint" / "added_field.fbs").string());
    EXPECT_EQ(a.find_struct("fp.Rec")->size, b.find_struct("fp.Rec")->size);
}

TEST(Fingerprint, NestedStructsContributeTheirLayout) {
    const Schema schema = load((schemas_dir / "fingerprint" / "v1.fbs").string());
    const std::string text =
        shmrec::codegen::canonical_layout(schema, *schema.find_struct("fp.Rec"));
    EXPECT_NE(text.find("struct fp.Inner size 8 align 4\n  field a int offset 0 size 4\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("enum fp.Color ubyte\n"), std::string::npos) << text;
}

// Tables: the evolution-relevant description (docs/codegen.md, "Tables").
std::uint64_t table_fingerprint_of(const std::string& file) {
    const Schema schema = load((schemas_dir / "fingerprint_tables" / file).string());
    const auto* t = schema.find_table("ft.Rec");
    EXPECT_NE(t, nullptr) << "ft.Rec in " << file;
    return t ? shmrec::codegen::fingerprint(schema, *t) : 0;
}

TEST(TableFingerprint, DescribesEveryFieldAndWhatItUses) {
    const Schema schema = load((schemas_dir / "fingerprint_tables" / "v1.fbs").string());
    const auto* t = schema.find_table("ft.Rec");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(shmrec::codegen::canonical_table(schema, *t),
              "shmrec-table v2\n"
              "table ft.Rec\n"
              "  field 0 id long default 0\n"
              "  field 1 name string\n"
              "  field 2 score float default 1.5\n"
              "  field 3 color ft.Color default 1\n"
              "  field 4 inner ft.Inner\n"
              "  field 5 parts [ft.Part]\n"
              "  field 6 old int default 0 deprecated\n"
              "enum ft.Color ubyte\n"
              "  value Red 0\n"
              "  value Green 1\n"
              "struct ft.Inner size 8 align 4\n"
              "  field a int offset 0 size 4\n"
              "  field b short offset 4 size 2\n"
              "table ft.Part\n"
              "  field 0 label string\n");
}

// If this fails, the table fingerprint algorithm changed: change the pinned value only
// together with the "shmrec-table v2" tag in fingerprint.cpp and docs/codegen.md.
TEST(TableFingerprint, EnrolmentValueIsPinned) {
    EXPECT_EQ(shmrec::TableTraits<school::Enrolment>::fingerprint, 0x73841c5980fcfb92ULL);
}

TEST(TableFingerprint, CommentsAndTheSpellingOfADefaultDoNotChangeIt) {
    const std::uint64_t v1 = table_fingerprint_of("v1.fbs");
    EXPECT_EQ(table_fingerprint_of("v1.fbs"), v1);
    EXPECT_EQ(table_fingerprint_of("comments_only.fbs"), v1);
    EXPECT_EQ(table_fingerprint_of("same_default_spelled_otherwise.fbs"), v1);
}

TEST(TableFingerprint, EachEvolutionRelevantChangeChangesIt) {
    const std::uint64_t v1 = table_fingerprint_of("v1.fbs");
    std::set<std::uint64_t> seen{v1};
    for (const char* file :
         {"changed_type.fbs", "changed_default.fbs", "renamed_field.fbs", "added_field.fbs",
          "required.fbs", "deprecated.fbs", "inner_changed.fbs", "part_changed.fbs",
          "enum_underlying.fbs", "enum_value_added.fbs", "explicit_ids.fbs",
          "scalar_optional.fbs"}) {
        SCOPED_TRACE(file);
        const std::uint64_t f = table_fingerprint_of(file);
        EXPECT_NE(f, v1);
        EXPECT_TRUE(seen.insert(f).second) << "two different changes gave one fingerprint";
    }
}

}  // namespace
}  // namespace codegen_test
