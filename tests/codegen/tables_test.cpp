// Tables (docs/codegen.md, "Tables"): flatc's code for them compiled through our headers,
// the struct/table type rule, a table built and verified with FlatBuffers, and the traits.
#include <flatbuffers/flatbuffers.h>
#include <flatbuffers/reflection.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "enrolment.shmrec.hpp"
#include "fingerprint.hpp"
#include "includes_table.shmrec.hpp"
#include "load_schema.hpp"
#include "mixed.shmrec.hpp"
#include "shmrec/cell.hpp"
#include "student.shmrec.hpp"
#include "test_support.hpp"

namespace codegen_test {
namespace {

// student.fbs declares no table: school::Student is shmrec's plain struct (public fields,
// FixedString), and flatc's Enrolment code uses that very type.
static_assert(std::is_same_v<decltype(school::Student::id), std::int64_t>);
static_assert(std::is_same_v<decltype(school::Student::name), shmrec::FixedString<20>>);
static_assert(std::is_same_v<decltype(std::declval<const school::Enrolment&>().student()),
                             const school::Student*>);

// mixed.fbs declares tables: its struct and enum are flatc's (accessors, not fields), and the
// struct is still a shmrec record usable in a channel.
static_assert(std::is_same_v<decltype(std::declval<const mix::Point&>().x()), std::int32_t>);
static_assert(std::is_same_v<decltype(std::declval<const mix::Item&>().at()), const mix::Point*>);
static_assert(std::is_same_v<decltype(std::declval<const mix::Item&>().level()), mix::Level>);
static_assert(shmrec::Record<mix::Point>);
static_assert(shmrec::RecordTraits<mix::Point>::size == 12);
static_assert(std::is_class_v<shmrec::Cell<mix::Point>::Writer>);
static_assert(shmrec::Table<mix::Item> && shmrec::Table<mix::Box>);
static_assert(shmrec::Table<school::Enrolment>);
static_assert(!shmrec::Record<school::Enrolment>);

// includes_table.fbs has no table of its own: its struct is shmrec's, holding flatc's Point.
static_assert(std::is_same_v<decltype(inc::Wrapped::p), mix::Point>);
static_assert(shmrec::Record<inc::Wrapped>);

shmrec::codegen::Schema load_tables_schema(const std::string& path) {
    std::vector<std::string> errors;
    auto schema = shmrec::codegen::load_schema(path, {}, errors);
    EXPECT_TRUE(schema.has_value()) << path << ": " << (errors.empty() ? "" : errors[0]);
    return schema ? std::move(*schema) : shmrec::codegen::Schema{};
}

std::string tables_enrolment_schema() {
    return (std::filesystem::path(CODEGEN_STUDENT_SCHEMA).parent_path() / "enrolment.fbs").string();
}

TEST(Tables, EnrolmentBuiltWithFlatBuffersVerifiesAndReadsBack) {
    flatbuffers::FlatBufferBuilder builder;
    school::Student student{};
    student.id = 42;
    student.name = "Ada";
    const std::vector<std::string> courses{"maths", "physics"};
    const auto enrolment =
        school::CreateEnrolment(builder, &student, builder.CreateVectorOfStrings(courses),
                                builder.CreateString("late"), 3.5f);
    builder.Finish(enrolment);

    flatbuffers::Verifier verifier(builder.GetBufferPointer(), builder.GetSize());
    ASSERT_TRUE(verifier.VerifyBuffer<school::Enrolment>(nullptr));
    const auto* e = flatbuffers::GetRoot<school::Enrolment>(builder.GetBufferPointer());
    ASSERT_NE(e->student(), nullptr);
    EXPECT_EQ(e->student()->id, 42);
    EXPECT_EQ(e->student()->name, "Ada");
    ASSERT_NE(e->courses(), nullptr);
    ASSERT_EQ(e->courses()->size(), 2u);
    EXPECT_EQ(e->courses()->Get(1)->str(), "physics");
    EXPECT_EQ(e->note()->str(), "late");
    EXPECT_EQ(e->grade(), 3.5f);

    // A damaged buffer fails verification: the verifier is really at work.
    std::vector<std::uint8_t> bytes(builder.GetBufferPointer(),
                                    builder.GetBufferPointer() + builder.GetSize());
    bytes[0] = 0xff;
    bytes[1] = 0xff;
    flatbuffers::Verifier broken(bytes.data(), bytes.size());
    EXPECT_FALSE(broken.VerifyBuffer<school::Enrolment>(nullptr));
}

TEST(Tables, MixedFileUsesFlatcsStructsAndEnumsWithTheirDefaults) {
    flatbuffers::FlatBufferBuilder builder;
    mix::Point p(3, 4);
    p.mutate_y(5);
    const std::vector<mix::Point> points{mix::Point(1, 2), p};
    // The vector first: nothing may be created while a table is being built (FlatBuffers
    // asserts that in debug builds).
    const auto v = builder.CreateVectorOfStructs(points);
    mix::ItemBuilder item(builder);
    item.add_id(7);
    item.add_at(&p);
    item.add_points(v);
    const auto done = item.Finish();
    builder.Finish(done);

    flatbuffers::Verifier verifier(builder.GetBufferPointer(), builder.GetSize());
    ASSERT_TRUE(verifier.VerifyBuffer<mix::Item>(nullptr));
    const auto* read = flatbuffers::GetRoot<mix::Item>(builder.GetBufferPointer());
    EXPECT_EQ(read->id(), 7);
    EXPECT_EQ(read->at()->y(), 5);
    EXPECT_EQ(read->level(), mix::Level::High) << "the schema's default";
    EXPECT_EQ(read->points()->Get(1)->x(), 3);
    EXPECT_EQ(read->tags(), nullptr);
}

TEST(Tables, TraitsNameTheTableAndCarryTheSchema) {
    using Traits = shmrec::TableTraits<school::Enrolment>;
    EXPECT_EQ(Traits::name, "school.Enrolment");
    EXPECT_EQ(Traits::schema_file, "enrolment.fbs");
    EXPECT_EQ(std::string(Traits::schema), read_file(tables_enrolment_schema()));

    const auto schema = load_tables_schema(tables_enrolment_schema());
    const auto* t = schema.find_table("school.Enrolment");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(Traits::fingerprint, shmrec::codegen::fingerprint(schema, *t));
    EXPECT_EQ(Traits::binary_schema.size(), schema.binary_schema.size());
    EXPECT_TRUE(std::equal(Traits::binary_schema.begin(), Traits::binary_schema.end(),
                           schema.binary_schema.begin()));

    // One binary schema per header, shared by its structs' and tables' traits.
    EXPECT_EQ(shmrec::TableTraits<mix::Item>::binary_schema.data(),
              shmrec::RecordTraits<mix::Point>::binary_schema.data());
    EXPECT_EQ(shmrec::TableTraits<mix::Box>::schema.data(),
              shmrec::RecordTraits<mix::Point>::schema.data());
    EXPECT_EQ(shmrec::TableTraits<mix::Box>::name, "mix.Box");
}

TEST(Tables, BinarySchemaFindsTablesByNameAndHasNoRootTable) {
    const auto bytes = shmrec::TableTraits<mix::Item>::binary_schema;
    flatbuffers::Verifier verifier(bytes.data(), bytes.size());
    ASSERT_TRUE(reflection::VerifySchemaBuffer(verifier));
    const auto* schema = reflection::GetSchema(bytes.data());
    EXPECT_EQ(schema->root_table(), nullptr);
    const auto* item = schema->objects()->LookupByKey("mix.Item");
    ASSERT_NE(item, nullptr);
    EXPECT_FALSE(item->is_struct());
    ASSERT_NE(item->fields()->LookupByKey("points"), nullptr);
    const auto* point = schema->objects()->LookupByKey("mix.Point");
    ASSERT_NE(point, nullptr);
    EXPECT_TRUE(point->is_struct());
}

// A root_type leaves no trace: the same schema with and without one serialises alike.
TEST(Tables, RootTypeDoesNotChangeTheBinarySchema) {
    const auto dir = scratch_dir();
    const std::string text = read_file(schemas_dir / "tables" / "mixed.fbs");
    std::filesystem::create_directories(dir / "a");
    std::filesystem::create_directories(dir / "b");
    std::ofstream(dir / "a" / "mixed.fbs") << text;
    std::ofstream(dir / "b" / "mixed.fbs") << text << "\nroot_type Box;\n";
    const auto without = load_tables_schema((dir / "a" / "mixed.fbs").string());
    const auto with = load_tables_schema((dir / "b" / "mixed.fbs").string());
    ASSERT_FALSE(without.binary_schema.empty());
    EXPECT_EQ(without.binary_schema, with.binary_schema);
}

}  // namespace
}  // namespace codegen_test
