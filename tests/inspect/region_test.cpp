// shmrec::inspect with what shmrec-gen and a live region really provide: the binary schema
// compiled into RecordTraits<T>::binary_schema and embedded in the region header, with the
// record name and size the header announces.
#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "binary_schema.hpp"
#include "every_type.shmrec.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/inspect/record_schema.hpp"
#include "shmrec/region.hpp"
#include "student.shmrec.hpp"
#include "test_names.hpp"

namespace {

using shmrec::inspect::RecordSchema;

template <class T>
RecordSchema schema_from_traits() {
    using RecordTraitsOfT = shmrec::RecordTraits<T>;
    return RecordSchema::load(RecordTraitsOfT::binary_schema, RecordTraitsOfT::name,
                              static_cast<std::uint32_t>(RecordTraitsOfT::size), "test");
}

class InspectRegion : public shmrec_test::RegionFixture {};

TEST_F(InspectRegion, RecordOfALiveRegionDecodesFromItsEmbeddedSchema) {
    const std::string region = name();
    auto writer = shmrec::Cell<school::Student>::writer(region);
    school::Student stu{};
    stu.id = 99041232;
    stu.name = "SecBug";
    ASSERT_EQ(writer.try_write(stu), shmrec::WriteStatus::ok);

    // Only what the region says about itself: no RecordTraits from here on.
    const auto info = shmrec::inspect_region(region);
    const auto schema = RecordSchema::load(info.binary_schema, info.record_name, info.record_size,
                                           "region '" + region + "'");
    auto reader = shmrec::Cell<school::Student>::reader(region);
    school::Student read{};
    ASSERT_EQ(reader.try_read(read), shmrec::ReadStatus::ok);
    EXPECT_EQ(schema.to_json(std::as_bytes(std::span(&read, 1))),
              R"({"id":99041232,"name":"SecBug"})");
}

TEST_F(InspectRegion, GeneratedBinarySchemasLoad) {
    EXPECT_EQ(schema_from_traits<school::Student>().record_size(), 32u);
    EXPECT_EQ(schema_from_traits<inspect_test::EveryType>().record_name(),
              "inspect_test.EveryType");
    // A struct that is not the first of its schema file shares the file's binary schema.
    EXPECT_EQ(schema_from_traits<inspect_test::Point>().record_size(), 8u);
}

TEST_F(InspectRegion, GeneratedBinarySchemaIsWhatTheTestHelperMakes) {
    // The corruption tests edit the helper's bytes: they must be the generator's bytes.
    const auto generated = shmrec::RecordTraits<inspect_test::EveryType>::binary_schema;
    EXPECT_EQ(std::vector<std::uint8_t>(generated.begin(), generated.end()),
              shmrec_test::binary_schema_from_file(INSPECT_EVERY_TYPE_SCHEMA));
}

TEST_F(InspectRegion, GeneratedBinarySchemaKeepsBitFlags) {
    // shmrec-gen serializes with IDLOptions::binary_schema_builtins: a bit_flags combination
    // prints by its names from the region alone (docs/inspect.md).
    inspect_test::EveryType r{};
    r.access = static_cast<inspect_test::Access>(1u | 4u);
    EXPECT_NE(schema_from_traits<inspect_test::EveryType>()
                  .to_json(std::as_bytes(std::span(&r, 1)))
                  .find(R"("access":"Read Exec",)"),
              std::string::npos);
}

}  // namespace
