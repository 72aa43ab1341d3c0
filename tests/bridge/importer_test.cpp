// The importer against a scripted transport (no network): identities and batches arrive in
// rounds the test chooses, so interleavings that the network produces only now and then (a
// batch before its identity, a batch of an epoch left behind) happen every time.
#include "importer.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <variant>

#include "scripted_subscriber.hpp"
#include "shmrec/broadcast.hpp"
#include "student.shmrec.hpp"
#include "test_names.hpp"

namespace {

using namespace shmrec::bridge;
using shmrec_bridge_test::Arrival;
using shmrec_bridge_test::ScriptedSubscriber;

class ImporterScript : public shmrec_test::RegionFixture {
  protected:
    static Identity identity(std::uint64_t epoch, SourceKind kind = SourceKind::broadcast) {
        Identity id;
        id.topic = "Students";
        id.region = "StudentsA";
        id.type = shmrec::RecordType::of<school::Student>();
        id.capacity = 1024;
        id.session = 1;
        id.source_epoch = epoch;
        id.kind = kind;
        return id;
    }

    // Students first..first+count-1 at those positions of `epoch`.
    static Batch students(std::uint64_t epoch, std::uint64_t first, std::uint32_t count) {
        std::vector<school::Student> records(count);
        for (std::uint32_t i = 0; i < count; ++i) {
            records[i].id = static_cast<std::int64_t>(first + i);
            records[i].name = "student-" + std::to_string(first + i);
        }
        const auto bytes = std::as_bytes(std::span(records));
        Batch b;
        b.session = 1;
        b.source_epoch = epoch;
        b.record = RecordKey::of(shmrec::RecordType::of<school::Student>());
        b.first_position = first;
        b.record_count = count;
        b.records.assign(bytes.begin(), bytes.end());
        return b;
    }

    // Runs the importer through the rounds into a fresh region; the ids the region holds.
    ImportCounts run(std::deque<std::vector<Arrival>> rounds) {
        region_ = name("import");
        StopFlag stop;
        ScriptedSubscriber subscriber(std::move(rounds), stop);
        ImportOptions options;
        options.topic = "Students";
        options.region = region_;
        return run_import(subscriber, options, stop);
    }

    std::vector<std::int64_t> ids_in_region() {
        auto reader = shmrec::Broadcast<school::Student>::reader(region_);
        std::vector<std::int64_t> ids;
        school::Student s{};
        while (reader.try_read(s) == shmrec::ReadStatus::ok) ids.push_back(s.id);
        return ids;
    }

    static std::vector<std::int64_t> range(std::int64_t first, std::int64_t end) {
        std::vector<std::int64_t> ids;
        for (std::int64_t i = first; i < end; ++i) ids.push_back(i);
        return ids;
    }

    std::string region_;
};

TEST_F(ImporterScript, ABatchThatComesBeforeItsIdentityWaitsForIt) {
    // Epoch 2 (A's region created anew) sends its first batch before its identity arrives.
    const ImportCounts c = run({{identity(1), students(1, 0, 10)},
                                {students(2, 0, 5)},
                                {students(2, 5, 5)},
                                {identity(2)}});
    std::vector<std::int64_t> expected = range(0, 10);
    for (std::int64_t i = 0; i < 10; ++i) expected.push_back(i);
    EXPECT_EQ(ids_in_region(), expected);
    EXPECT_EQ(c.records, 20u);
    EXPECT_EQ(c.refused, 0u);
    EXPECT_EQ(c.missing, 0u);
    EXPECT_EQ(c.duplicates, 0u);
}

TEST_F(ImporterScript, ABatchOfAnotherKindOfSourceIsRefusedOnceItsIdentityIsKnown) {
    // A cell of the same record, exported on the same topic: its batch comes first.
    const ImportCounts c = run({{identity(1), students(1, 0, 10)},
                                {students(2, 0, 1)},
                                {identity(2, SourceKind::cell)},
                                {students(2, 1, 1), students(1, 10, 2)}});
    EXPECT_EQ(ids_in_region(), range(0, 12));
    EXPECT_EQ(c.records, 12u);
    EXPECT_EQ(c.refused, 3u);  // the cell's identity and its two batches
}

TEST_F(ImporterScript, BatchesOfAnEpochLeftBehindAreRefused) {
    const ImportCounts c = run({{identity(1), students(1, 0, 10)},
                                {identity(2), students(2, 0, 3)},
                                {students(1, 10, 5), students(2, 3, 3)}});
    std::vector<std::int64_t> expected = range(0, 10);
    for (std::int64_t i = 0; i < 6; ++i) expected.push_back(i);
    EXPECT_EQ(ids_in_region(), expected);
    EXPECT_EQ(c.refused, 1u);
}

TEST_F(ImporterScript, BatchesWhoseSourceNeverAnnouncesItselfAreBoundedAndRefused) {
    std::vector<Arrival> orphans;
    for (std::uint64_t i = 0; i < 300; ++i) orphans.emplace_back(students(9, i, 1));
    const ImportCounts c = run({{identity(1), students(1, 0, 10)}, std::move(orphans)});
    EXPECT_EQ(ids_in_region(), range(0, 10));
    // The oldest beyond the 256 kept waiting when they come, the 256 when the importer stops.
    EXPECT_EQ(c.refused, 300u);
}

}  // namespace
