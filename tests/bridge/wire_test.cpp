// What the bridge accepts from the network (bridge/src/wire.hpp): identities and batches are
// checked before anything reaches a region, and refused with a sentence naming the problem.
#include "wire.hpp"

#include <gtest/gtest.h>

#include "student.shmrec.hpp"

#include <cstddef>
#include <limits>
#include <string>

namespace {

using namespace shmrec::bridge;

Identity student_identity() {
    Identity id;
    id.topic = "Students";
    id.region = "StudentsA";
    id.type.name = "school.Student";
    id.type.size = 32;
    id.type.alignment = 8;
    id.type.fingerprint = 0xd69b7e078e1d4063;
    id.capacity = 1024;
    id.session = 7;
    return id;
}

Batch batch_of(std::uint32_t count) {
    Batch b;
    b.record = RecordKey::of(student_identity().type);
    b.first_position = 100;
    b.record_count = count;
    b.records.resize(std::size_t{count} * 32);
    return b;
}

std::string problem(const std::optional<std::string>& p) {
    return p.value_or("(accepted)");
}

TEST(BridgeWire, TopicNamesAreLettersDigitsAndUnderscores) {
    EXPECT_EQ(topic_problem("Students_2"), "");
    EXPECT_EQ(topic_problem(""), "a topic name cannot be empty");
    EXPECT_EQ(topic_problem("2x"), "topic '2x' starts with a digit");
    EXPECT_EQ(topic_problem("a/b"),
              "topic 'a/b' holds '/': topic names are letters, digits and '_'");
    EXPECT_NE(topic_problem(std::string(101, 'x')), "");
}

TEST(BridgeWire, AWellFormedIdentityIsAccepted) {
    EXPECT_EQ(check_identity(student_identity()), std::nullopt);
}

TEST(BridgeWire, AnIdentityNoChannelCanCarryIsRefused) {
    Identity id = student_identity();
    id.type.size = 0;
    EXPECT_EQ(problem(check_identity(id)),
              "record school.Student of 0 bytes (1 to 1048576 allowed)");
    id = student_identity();
    id.type.alignment = 3;
    EXPECT_EQ(problem(check_identity(id)),
              "record school.Student aligned to 3 (a power of two up to 64 expected)");
    id = student_identity();
    id.type.alignment = 64;
    EXPECT_EQ(problem(check_identity(id)),
              "record school.Student of 32 bytes is not a multiple of its alignment 64");
    id = student_identity();
    id.type.name = std::string(112, 'n');
    EXPECT_EQ(problem(check_identity(id)), "a record name of 112 bytes (1 to 111 allowed)");
    id = student_identity();
    id.capacity = 1000;
    EXPECT_EQ(problem(check_identity(id)),
              "a source capacity of 1000 records (a power of two up to 2^32 expected)");
    id = student_identity();
    id.topic = "no-topic";
    EXPECT_NE(problem(check_identity(id)), "(accepted)");
}

// The binary schema is embedded as received into the importer's region: it must describe the
// record the identity names.
TEST(BridgeWire, ABinarySchemaThatDoesNotDescribeTheRecordIsRefused) {
    Identity id = student_identity();
    id.type = shmrec::RecordType::of<school::Student>();
    ASSERT_FALSE(id.type.binary_schema.empty());
    EXPECT_EQ(check_identity(id), std::nullopt);

    const std::string refused = "record school.Student comes with a binary schema that does not "
                                "describe it: topic 'Students': corrupt record schema: ";
    Identity garbage = id;
    garbage.type.binary_schema.assign(64, 0xA5);
    EXPECT_EQ(problem(check_identity(garbage)),
              refused + "the 64 bytes are not a valid binary schema (reflection::Schema)");

    Identity larger = id;
    larger.type.size = 40;
    EXPECT_EQ(problem(check_identity(larger)),
              refused +
                  "struct 'school.Student' is 32 bytes in the schema, the record is 40 bytes");

    Identity renamed = id;
    renamed.type.name = "school.Teacher";
    EXPECT_NE(problem(check_identity(renamed)).find("record school.Teacher comes with a binary "
                                                    "schema that does not describe it"),
              std::string::npos)
        << problem(check_identity(renamed));
}

TEST(BridgeWire, AWellFormedBatchIsAccepted) {
    EXPECT_EQ(check_batch(batch_of(3), RecordKey::of(student_identity().type)), std::nullopt);
}

TEST(BridgeWire, ABatchOfAnotherRecordIsRefusedNamingBoth) {
    Batch b = batch_of(1);
    b.record.fingerprint = 0x7c;
    EXPECT_EQ(problem(check_batch(b, RecordKey::of(student_identity().type))),
              "a batch of school.Student (32 bytes, aligned to 8, fingerprint 0x000000000000007c), "
              "the topic carries school.Student (32 bytes, aligned to 8, fingerprint "
              "0xd69b7e078e1d4063)");
}

TEST(BridgeWire, ABatchWhoseBytesAreNotCountTimesSizeIsRefused) {
    const RecordKey key = RecordKey::of(student_identity().type);
    Batch b = batch_of(3);
    b.records.pop_back();
    EXPECT_EQ(problem(check_batch(b, key)),
              "a batch of 3 records of 32 bytes carries 95 bytes, not 96");
    b = batch_of(3);
    b.record_count = std::numeric_limits<std::uint32_t>::max();
    EXPECT_EQ(problem(check_batch(b, key)),
              "a batch of 4294967295 records of 32 bytes carries 96 bytes, not 137438953440");
    b = batch_of(0);
    EXPECT_EQ(problem(check_batch(b, key)), "an empty batch");
}

TEST(BridgeWire, ABatchTooLargeOrPastTheLastPositionIsRefused) {
    const RecordKey key = RecordKey::of(student_identity().type);
    Batch b = batch_of((max_batch_bytes / 32) + 1);
    EXPECT_EQ(problem(check_batch(b, key)), "a batch of 1048608 bytes (at most 1048576 accepted)");
    b = batch_of(2);
    b.first_position = std::numeric_limits<std::uint64_t>::max() - 1;
    EXPECT_EQ(problem(check_batch(b, key)),
              "a batch at position 18446744073709551614 whose records would pass 2^64");
}

}  // namespace
