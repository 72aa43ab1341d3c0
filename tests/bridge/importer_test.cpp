// The importer against a scripted transport (no network): identities and batches arrive in
// rounds the test chooses, so interleavings that the network produces only now and then (a
// batch before its identity, a batch of an epoch left behind) happen every time.
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <thread>
#include <vector>

#include "import_progress.hpp"
#include "listening_subscriber.hpp"
#include "scripted_import.hpp"
#include "shmrec/ring.hpp"

namespace {

using namespace shmrec::bridge;
using shmrec_bridge_test::Arrival;

using ImporterScript = shmrec_bridge_test::ScriptedImport;

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

// An importer started after another one ended (killed, or stopped) resumes at the first
// source position its region lacks: batches past a gap wait for the exporter to send the
// region again from its oldest record (it does when an importer subscribes), and what the
// region has is skipped. Without the resume the heir would write 20-24 at once and lose 10-19.
TEST_F(ImporterScript, AnHeirResumesWhereItsPredecessorsWritesEnded) {
    const ImportCounts first = run({{identity(1), students(1, 0, 10)}});
    EXPECT_EQ(first.records, 10u);
    // A reader on B keeps the region in use: the heir takes it over (an unused one is made
    // anew, and there is nothing to resume).
    const auto reader = shmrec::Broadcast<school::Student>::reader(region_);
    // Sent to the predecessor while it was dying: 10-19. The heir sees 20-24 first, then the
    // exporter's replay from the region's oldest record (0), then more.
    const ImportCounts heir = run_again({{identity(1), students(1, 20, 5)},
                                         {students(1, 0, 25, 0, true)},
                                         {students(1, 25, 5)}});
    EXPECT_EQ(ids_in_region(), range(0, 30));
    EXPECT_EQ(heir.records, 20u);
    EXPECT_EQ(heir.duplicates, 10u);
    EXPECT_EQ(heir.missing, 0u);
    EXPECT_EQ(heir.source_lost, 0u);
}

// The replay starts past the heir's position (the source's writer overwrote those records in
// the meantime): they are lost at the source, counted so, not missing.
TEST_F(ImporterScript, AReplayThatStartsPastTheHeirsPositionCountsTheGapAsLostAtTheSource) {
    (void)run({{identity(1), students(1, 0, 10)}});
    const auto reader = shmrec::Broadcast<school::Student>::reader(region_);
    const ImportCounts heir =
        run_again({{identity(1), students(1, 40, 5)}, {students(1, 30, 15, 0, true)}});
    std::vector<std::int64_t> expected = range(0, 10);
    for (std::int64_t i = 30; i < 45; ++i) expected.push_back(i);
    EXPECT_EQ(ids_in_region(), expected);
    EXPECT_EQ(heir.source_lost, 20u);
    EXPECT_EQ(heir.missing, 0u);
}

// B's ring has room for half of a batch: the listener (the engine's receive thread) writes that
// half and leaves the rest to the importer's own thread, which it must wake. Before, the thread
// found the rest only at its next periodic look, up to 100 ms later: each batch that met a full
// ring stalled the import that long.
TEST_F(ImporterScript, ABatchTheListenerLeavesPendingWakesTheImportersThread) {
    using namespace std::chrono_literals;
    region_ = name("import");
    shmrec_bridge_test::ListeningSubscriber subscriber(identity(1, SourceKind::ring));
    StopFlag stop;
    ImportOptions options;
    options.topic = "Students";
    options.region = region_;
    options.capacity = 4;
    std::exception_ptr failure;
    std::thread importer([&] {
        try {
            (void)run_import(subscriber, options, stop);
        } catch (...) {
            failure = std::current_exception();
        }
    });
    const bool delivered = subscriber.deliver(students(1, 0, 8, 0, true), 10s);
    std::vector<std::int64_t> ids;
    if (delivered) {
        auto reader = shmrec::Ring<school::Student>::reader(region_);
        school::Student s{};
        while (ids.size() < 8 && reader.read(s, 10s) == shmrec::ReadStatus::ok) ids.push_back(s.id);
    }
    const bool reported = delivered && subscriber.await_written(8, 10s);
    stop.request();
    subscriber.stop();
    importer.join();
    if (failure) std::rethrow_exception(failure);
    ASSERT_TRUE(delivered) << "the importer never set a listener";
    EXPECT_EQ(ids, range(0, 8));
    EXPECT_TRUE(reported);
    EXPECT_GE(subscriber.notifications(), 1u) << "the listener never woke the importer's "
                                                  "thread for the records it left pending";
}

// Two batches taken together (one take) into a B ring with room for 4 and no reader: the first
// leaves 2 records pending, the second must queue behind them. Before, it replaced them: 4-5
// were skipped (counted missing, and a ring exporter told they were written would have
// released them from A's ring) and 6-9 landed before them once there was room.
TEST_F(ImporterScript, ABatchTakenWithOneThatLeftRecordsPendingQueuesBehindThem) {
    const ImportCounts c = run({{identity(1, SourceKind::ring), students(1, 0, 6, 0, true),
                                 students(1, 6, 4)},
                                {},
                                {}},
                               4);
    EXPECT_EQ(c.missing, 0u);
    EXPECT_EQ(c.records, 4u);  // 0-3: B's ring is full, nobody reads it
    EXPECT_EQ(ids_in_ring(), range(0, 4));
}

// What the progress cell allows to resume: only a record of this creation of the region whose
// written count lies within that record's write (import_progress.hpp).
TEST(ImportProgress, AResumePointNeedsTheSameRegionAndAWrittenCountWithinTheLastWrite) {
    using shmrec::bridge::ImportProgress;
    const shmrec_bridge::ImportProgress last{/*region_epoch*/ 7, /*source_epoch*/ 3,
                                             /*source_first*/ 100, /*region_first*/ 40,
                                             /*count*/ 10};
    // Died before the write, in its middle, after it.
    EXPECT_EQ(ImportProgress::resume_point_of(last, 7, 40)->next_position, 100u);
    EXPECT_EQ(ImportProgress::resume_point_of(last, 7, 44)->next_position, 104u);
    EXPECT_EQ(ImportProgress::resume_point_of(last, 7, 50)->next_position, 110u);
    EXPECT_EQ(ImportProgress::resume_point_of(last, 7, 50)->source_epoch, 3u);
    // Another creation of the region, or another writer since.
    EXPECT_FALSE(ImportProgress::resume_point_of(last, 8, 45));
    EXPECT_FALSE(ImportProgress::resume_point_of(last, 7, 39));
    EXPECT_FALSE(ImportProgress::resume_point_of(last, 7, 51));
}

}  // namespace
