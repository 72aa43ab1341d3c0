// Review tests: the importer against a scripted subscriber (scripted_subscriber.hpp) and the
// exporter against a transport that records what it publishes, for cases the process tests
// cannot force (a loss reported over positions already written, a malformed batch waiting for
// its identity, a region created anew and written past its capacity before the exporter opens
// it).
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "child_process.hpp"
#include "exporter.hpp"
#include "importer.hpp"
#include "recording_transport.hpp"
#include "scripted_import.hpp"
#include "shmrec/broadcast.hpp"
#include "shmrec/region.hpp"
#include "shmrec/ring.hpp"
#include "student.shmrec.hpp"
#include "test_names.hpp"

namespace {

using namespace shmrec::bridge;
using namespace std::chrono_literals;
using shmrec_bridge_test::Arrival;
using shmrec_bridge_test::RecordingTransport;

using ImporterReview = shmrec_bridge_test::ScriptedImport;

TEST_F(ImporterReview, ALossReportedOverPositionsAlreadyWrittenIsNoLossHere) {
    // A restarted exporter reads its region from the oldest record again and is lapped while
    // it does: it reports positions 3..7 lost before its batch at 8, but B wrote them already.
    const ImportCounts c =
        run({{identity(1), students(1, 0, 10)}, {students(1, 8, 4, /*lost_before=*/5)}});
    EXPECT_EQ(ids_in_region(), range(0, 12));
    EXPECT_EQ(c.records, 12u);
    EXPECT_EQ(c.duplicates, 2u);
    EXPECT_EQ(c.missing, 0u);
    EXPECT_EQ(c.source_lost, 0u);
}

TEST_F(ImporterReview, ALossLargerThanThePositionsBeforeTheFirstBatchCountsOnlyThose) {
    // Positions start at 0: no exporter can have lost more than `first_position` records
    // before its batch. A buggy or hostile one claiming 2^63 does not make the count absurd
    // (nor wrap it with the next such batch).
    const std::uint64_t absurd = std::uint64_t{1} << 63;
    const ImportCounts c =
        run({{identity(1), students(1, 3, 2, absurd)}, {students(1, 5, 2, absurd)}});
    EXPECT_EQ(ids_in_region(), range(3, 7));
    EXPECT_EQ(c.source_lost, 3u);
    EXPECT_EQ(c.missing, 0u);
}

TEST_F(ImporterReview, AMalformedBatchWaitingForItsIdentityDoesNotPushOutAGoodOne) {
    // 256 good batches of epoch 9 wait for its identity; a 257th that check_batch() refuses
    // anyway must not take the place of the oldest good one (nor hold its bytes meanwhile).
    std::vector<Arrival> waiting;
    for (std::uint64_t i = 0; i < 256; ++i) waiting.emplace_back(students(9, i, 1));
    Batch malformed = students(9, 256, 1);
    malformed.record_count = 2;  // 32 bytes for two records of 32
    const ImportCounts c = run({{identity(1), students(1, 0, 10)},
                                std::move(waiting),
                                {std::move(malformed)},
                                {identity(9)}});
    std::vector<std::int64_t> expected = range(0, 10);
    for (std::int64_t i = 0; i < 256; ++i) expected.push_back(i);
    EXPECT_EQ(ids_in_region(), expected);
    EXPECT_EQ(c.records, 10u + 256u);
    EXPECT_EQ(c.refused, 1u);
}

TEST_F(ImporterReview, BatchesOfAnEpochWhoseIdentityWasSupersededAreCounted) {
    // The exporter followed its region created anew twice (epochs 2 and 3) before the importer
    // took the identity of 2: the engine keeps the latest identity only, so 2's never comes.
    // Once the same exporter run's batches of 3 are written, its batches of 2 can never be:
    // they are refused (counted), not kept waiting unseen in no count.
    const ImportCounts c = run({{identity(1), students(1, 0, 10)},
                                {identity(2), identity(3), students(2, 0, 5), students(3, 0, 5)}});
    std::vector<std::int64_t> expected = range(0, 10);
    for (std::int64_t i = 0; i < 5; ++i) expected.push_back(i);
    EXPECT_EQ(ids_in_region(), expected);
    EXPECT_EQ(c.records, 15u);
    EXPECT_EQ(c.refused, 1u);
}

TEST_F(ImporterReview, ALaterIdentityForAnotherTopicIsRefusedWithItsBatches) {
    // docs/bridge.md: an identity naming another topic is refused; the first one is (by
    // await_identity), and so must be the ones after it.
    Identity other = identity(2);
    other.topic = "Other";
    const ImportCounts c = run({{identity(1), students(1, 0, 10)}, {other}, {students(2, 0, 5)}});
    EXPECT_EQ(ids_in_region(), range(0, 10));
    EXPECT_EQ(c.records, 10u);
    EXPECT_EQ(c.refused, 2u);  // the identity and its batch
}

TEST_F(ImporterReview, ANewRingImporterWaitsForTheReplayOfWhatTheExporterStillHolds) {
    // The exporter sent 10-19 to an importer that died (its region B was made anew: nothing to
    // resume), still holds them unreleased in A's ring, and sends 20-24 to the new importer
    // before it notices it and sends its ring again from the oldest record it holds, 10.
    // Writing 20-24 first would skip 10-19 as "duplicates" and report them written: A's ring
    // would release records that are on no host.
    const ImportCounts c = run({{identity(1, SourceKind::ring), students(1, 20, 5)},
                                {students(1, 10, 15, 0, /*from_oldest=*/true)},
                                {students(1, 25, 5)}});
    EXPECT_EQ(ids_in_ring(), range(10, 30));
    EXPECT_EQ(c.records, 20u);
    EXPECT_EQ(c.duplicates, 0u);
    EXPECT_EQ(c.source_lost, 0u);
}

TEST_F(ImporterReview, ARingHeirWaitsForTheReplayOfANewEpochToo) {
    // The predecessor wrote epoch 1's 0-9 and died; the source ring was made anew and the
    // exporter sent epoch 2's 0-4 to the dying predecessor, then 5-9 to the heir before its
    // replay from 0.
    (void)run({{identity(1, SourceKind::ring), students(1, 0, 10, 0, true)}});
    // B's consumer keeps the region in use: the heir takes it over.
    auto reader = shmrec::Ring<school::Student>::reader(region_);
    const ImportCounts heir = run_again({{identity(2, SourceKind::ring), students(2, 5, 5)},
                                         {students(2, 0, 10, 0, /*from_oldest=*/true)}});
    std::vector<std::int64_t> ids;
    school::Student s{};
    while (reader.try_read(s) == shmrec::ReadStatus::ok) ids.push_back(s.id);
    std::vector<std::int64_t> expected = range(0, 10);
    for (std::int64_t i = 0; i < 10; ++i) expected.push_back(i);
    EXPECT_EQ(ids, expected);
    EXPECT_EQ(heir.records, 10u);
    EXPECT_EQ(heir.duplicates, 0u);
}

TEST_F(ImporterReview, ARegionNameAtTheRuntimesLimitIsImportedInto) {
    // 200 characters is a valid region name; NAME.import-progress is 216, so the progress
    // cell needs a name that fits too, or the importer fails after creating the region.
    std::string region = name("import");
    region += std::string(200 - region.size(), 'x');
    region_ = region;
    const ImportCounts c = run_again({{identity(1), students(1, 0, 10)}});
    EXPECT_EQ(ids_in_region(), range(0, 10));
    EXPECT_EQ(c.records, 10u);
    (void)shmrec::remove_region(shmrec::Location::memory(region_));
}

std::uint64_t records_of_epoch(const RecordingTransport::Published& p, std::uint64_t epoch) {
    std::uint64_t n = 0;
    for (const Batch& b : p.batches) {
        if (b.source_epoch == epoch) n += b.record_count;
    }
    return n;
}

class ExporterReview : public shmrec_test::RegionFixture {};

TEST_F(ExporterReview, ARegionCreatedAnewReportsWhatItsWriterOverwroteBeforeTheExporterOpenedIt) {
    using Students = shmrec::Broadcast<school::Student>;
    const std::string region = name("source");
    const shmrec::Location where = shmrec::Location::memory(region);
    auto first_writer = std::make_optional(Students::writer(where, 8));
    for (std::int64_t i = 0; i < 5; ++i) {
        school::Student s{};
        s.id = i;
        ASSERT_EQ(first_writer->try_write(s), shmrec::WriteStatus::ok);
    }

    RecordingTransport transport;
    StopFlag stop;
    ExportOptions options;
    options.region = region;
    options.topic = "Students";
    ExportCounts counts;
    std::thread exporter([&] { counts = run_export(transport, options, stop); });

    ASSERT_TRUE(transport.wait_until([](const RecordingTransport::Published& p) {
        return !p.identities.empty() && records_of_epoch(p, p.identities[0].source_epoch) == 5;
    }));
    // The name is removed and made anew while the first writer still has its region open: a
    // new region (a new epoch, positions from 0), written 20 times over its 8 slots before the
    // exporter notices (when the first writer closes): positions 0..11 are gone.
    ASSERT_TRUE(shmrec::remove_region(where));
    auto second_writer = Students::writer(where, 8);
    for (std::int64_t i = 0; i < 20; ++i) {
        school::Student s{};
        s.id = 100 + i;
        ASSERT_EQ(second_writer.try_write(s), shmrec::WriteStatus::ok);
    }
    first_writer.reset();

    const bool followed = transport.wait_until([](const RecordingTransport::Published& p) {
        return p.identities.size() == 2 && records_of_epoch(p, p.identities[1].source_epoch) == 8;
    });
    stop.request();
    exporter.join();
    ASSERT_TRUE(followed);

    const RecordingTransport::Published p = transport.published();
    const std::uint64_t epoch = p.identities[1].source_epoch;
    ASSERT_NE(epoch, p.identities[0].source_epoch);
    const auto first = std::find_if(p.batches.begin(), p.batches.end(),
                                    [&](const Batch& b) { return b.source_epoch == epoch; });
    ASSERT_NE(first, p.batches.end());
    EXPECT_EQ(first->first_position, 12u);
    // Exported + lost at the source = written, region by region: 5 + 0, then 8 + 12.
    EXPECT_EQ(first->lost_before, 12u);
    EXPECT_EQ(counts.records, 13u);
    EXPECT_EQ(counts.lost, 12u);
}

TEST_F(ExporterReview, AFollowedRegionIsNoNewImporter) {
    // "each change in the number of importers is a notice": the one importer stays while the
    // exporter follows its region created anew, so one notice in all.
    using Students = shmrec::Broadcast<school::Student>;
    const std::string region = name("source");
    const shmrec::Location where = shmrec::Location::memory(region);
    auto first_writer = std::make_optional(Students::writer(where, 8));
    ASSERT_EQ(first_writer->try_write(school::Student{}), shmrec::WriteStatus::ok);

    RecordingTransport transport;
    StopFlag stop;
    ExportOptions options;
    options.region = region;
    options.topic = "Students";
    testing::internal::CaptureStdout();
    std::thread exporter([&] { (void)run_export(transport, options, stop); });
    const bool first = transport.wait_until(
        [](const RecordingTransport::Published& p) { return p.batches.size() == 1; });
    bool second = false;
    if (first) {
        (void)shmrec::remove_region(where);
        auto second_writer = Students::writer(where, 8);
        (void)second_writer.try_write(school::Student{});
        first_writer.reset();
        second = transport.wait_until(
            [](const RecordingTransport::Published& p) { return p.batches.size() == 2; });
    }
    stop.request();
    exporter.join();
    const std::string out = testing::internal::GetCapturedStdout();
    ASSERT_TRUE(first && second) << out;
    std::size_t notices = 0;
    for (std::size_t at = 0; (at = out.find("an importer subscribed", at)) != std::string::npos;
         ++at) {
        ++notices;
    }
    EXPECT_EQ(notices, 1u) << out;
}

// A lying writer takes the ring's next record back between the exporter's wait, which saw it,
// and its copy, which then finds the slot empty (peek_more answers `empty`). That is no end of
// the export: the exporter waits for the record again and carries it once it is back. Forced
// in a process of its own stopped at the point between the two (bridge_fault_peer.cpp).
TEST_F(ExporterReview, ARecordTakenBackBetweenTheWaitAndTheCopyIsWaitedForAgain) {
    using Students = shmrec::Ring<school::Student>;
    const std::string region = name("source");
    auto writer = Students::writer(region, 8);
    shmrec::detail::RingView<school::Student> view(writer.region());
    school::Student s{};
    ASSERT_EQ(writer.try_write(s), shmrec::WriteStatus::ok);

    shmrec_test::SpawnOptions at_the_gap;
    at_the_gap.env = {"SHMREC_FAULT=peek_more.after_wait:1:stop"};
    shmrec_test::ChildProcess exporter(SHMREC_BRIDGE_FAULT_PEER, {"export", region}, at_the_gap);
    ASSERT_TRUE(exporter.wait_stopped()) << "the exporter never waited for record 0";
    view.slot(0).seq.store(0);  // taken back: slot 0 looks never written
    exporter.signal(SIGCONT);

    // Its copy finds nothing; the exporter goes back to waiting for record 0 (registered
    // asleep on the ring's doorbell) instead of ending.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while ((view.control->consumer_waiting.load() & 1) == 0 && exporter.running() &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(exporter.running()) << "the exporter ended: " << exporter.expect_line("failed", 1s);
    ASSERT_NE(view.control->consumer_waiting.load() & 1, 0u) << "the exporter never slept again";

    // Record 1 first, then record 0 back: whenever the exporter sees record 0 again, record 1
    // is there too, so they go in one batch (a wake-up in between cannot split them).
    s.id = 1;
    ASSERT_EQ(writer.try_write(s), shmrec::WriteStatus::ok);
    view.slot(0).seq.store(1);
    EXPECT_EQ(exporter.expect_line("batch", 20s), "batch 0 2");
    exporter.close_stdin();
    EXPECT_EQ(exporter.expect_line("exported", 20s), "exported 2 records in 1 batches");
    EXPECT_TRUE(exporter.wait_exit(20s).ok());
}

// A ring's record taken back is waited for again (above), but a cell whose stamp a lying writer
// sets back to 0 ("never written") after the exporter read a value stays that way: its read
// answers `empty` at once, every time. Tolerated like a ring's, it made the exporter spin on a
// core for ever; it ends the export with the reason instead.
TEST_F(ExporterReview, ACellStampForgedBackToNeverWrittenEndsTheExportWithTheReason) {
    using Students = shmrec::Cell<school::Student>;
    const std::string region = name("source");
    auto writer = Students::writer(region);
    const shmrec::detail::CellView<school::Student> view(writer.region());
    ASSERT_EQ(writer.try_write(school::Student{}), shmrec::WriteStatus::ok);

    shmrec_test::ChildProcess exporter(SHMREC_BRIDGE_FAULT_PEER, {"export", region});
    ASSERT_EQ(exporter.expect_line("batch", 20s), "batch 0 1");
    view.control->latest.store(0);
    const std::string failed = exporter.expect_line("failed", 10s);
    EXPECT_NE(failed.find("failed: empty"), std::string::npos) << "no failure in 10 s: " << failed;
    exporter.close_stdin();
    EXPECT_EQ(exporter.wait_exit(20s), shmrec_test::ExitStatus::code_of(1));
}

TEST(BridgeCommandLineReview, HelpOnALineOfAConfigFileIsNamedAsSuch) {
    // CLI11 answers --help with an exception meant for main(); on a config file's line its
    // text ("This should be caught in your main function, see examples") was the reason given.
    const std::filesystem::path file =
        std::filesystem::temp_directory_path() /
        ("shmrec-bridge-review-" + std::to_string(::getpid()) + ".conf");
    std::ofstream(file) << "export A --help\n";
    shmrec_test::ChildProcess p(
        "sh", {"-c", "exec \"$0\" run \"$1\" 2>&1", SHMREC_BRIDGE, file.string()});
    p.close_stdin();
    p.read_all(10s);
    EXPECT_EQ(p.wait_exit(10s), shmrec_test::ExitStatus::code_of(2));
    ASSERT_FALSE(p.lines().empty());
    EXPECT_EQ(p.lines().back(),
              "shmrec-bridge: " + file.string() + ":1: --help has no place in a config file");
    std::filesystem::remove(file);
}

}  // namespace
