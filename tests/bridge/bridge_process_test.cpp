// shmrec-bridge end to end: real processes on two simulated hosts (two_hosts.hpp), the local
// writer and reader played by shmrec_bridge_test_peer. Skipped, with the reason, where network
// namespaces cannot be made (not root, a container without CAP_SYS_ADMIN).
#include <gtest/gtest.h>
#include <signal.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "two_hosts.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec_bridge_test::TwoHosts;
using shmrec_test::ChildProcess;

const std::string bridge = SHMREC_BRIDGE;
const std::string peer = SHMREC_BRIDGE_TEST_PEER;

std::string transcript(const ChildProcess& p) {
    std::string all;
    for (const auto& line : p.lines()) all += "  | " + line + "\n";
    return all;
}

class BridgeTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (const auto why = TwoHosts::unavailable()) GTEST_SKIP() << "two hosts: " << *why;
        hosts_ = TwoHosts::create();
    }

    // Ends a bridge process with SIGTERM, as a service manager would; it must exit 0 and print
    // its summary (a line starting with `summary`), which is returned.
    static std::string stop(ChildProcess& p, const std::string& summary) {
        p.signal(SIGTERM);
        const std::string line = p.expect_line("shmrec-bridge: " + summary, 10s);
        const auto status = p.wait_exit(10s);
        EXPECT_TRUE(status.ok()) << status.describe() << "\n" << transcript(p);
        return line;
    }

    // Ends peers that hold a region until their stdin ends (writers): each must exit cleanly.
    static void close_writers(std::initializer_list<ChildProcess*> writers) {
        for (ChildProcess* w : writers) w->close_stdin();
        for (ChildProcess* w : writers) EXPECT_TRUE(w->wait_exit(10s).ok()) << transcript(*w);
    }

    // Stops an importer (stop()) and expects its summary to hold `records` imported and
    // `tally` ("missing 0, duplicates 0, refused 0").
    static void expect_imported(ChildProcess& importer, std::uint64_t records,
                                const std::string& tally) {
        const std::string imported = stop(importer, "imported");
        EXPECT_NE(imported.find("imported " + std::to_string(records) + " records"),
                  std::string::npos)
            << imported;
        EXPECT_NE(imported.find(tally), std::string::npos) << imported;
    }

    // The peer's "written" line for `region` on `host` once it says `count` records (10 s at
    // most; the last line seen otherwise).
    static std::string await_written(const shmrec_bridge_test::Host& host,
                                     const std::string& region, std::uint64_t count) {
        const std::string expected = "school.Student written " + std::to_string(count);
        std::string written;
        for (int attempt = 0; attempt < 100 && written != expected; ++attempt) {
            if (attempt > 0) std::this_thread::sleep_for(100ms);
            auto probe = host.spawn(peer, {"written", "--name", region});
            written = probe->read_line(10s).value_or("");
            (void)probe->wait_exit(10s);
        }
        return written;
    }

    // What most tests start from: an importer of topic Students into StudentsB on B (with
    // `importer_options`), a writer of students 0-999 into StudentsA on A (a broadcast of
    // 8192) and its exporter; returns once B holds the 1000.
    struct Stream {
        std::unique_ptr<ChildProcess> importer, writer, exporter;
    };
    Stream start_stream(const std::vector<std::string>& importer_options = {}) {
        std::vector<std::string> import{"import", "Students", "--as", "StudentsB"};
        import.insert(import.end(), importer_options.begin(), importer_options.end());
        Stream s;
        s.importer = hosts_->b().spawn(bridge, import);
        s.writer = hosts_->a().spawn(peer, {"students-writer", "--name", "StudentsA", "--count",
                                            "1000", "--capacity", "8192"});
        EXPECT_EQ(s.writer->read_line(20s).value_or("(nothing)"), "written 1000");
        s.exporter = hosts_->a().spawn(bridge, {"export", "StudentsA", "--topic", "Students"});
        EXPECT_EQ(await_written(hosts_->b(), "StudentsB", 1000), "school.Student written 1000")
            << transcript(*s.exporter) << transcript(*s.importer);
        return s;
    }

    // The runs of consecutive student ids in B's region (bridge_test_peer students-runs).
    std::string runs_on_b(const std::string& region, std::uint64_t count) {
        auto reader = hosts_->b().spawn(peer, {"students-runs", "--name", region, "--count",
                                               std::to_string(count), "--wait-ms", "20000"});
        const std::string line = reader->read_line(40s).value_or("(nothing)");
        EXPECT_TRUE(reader->wait_exit(10s).ok()) << transcript(*reader);
        return line;
    }

    std::unique_ptr<TwoHosts> hosts_;
};

TEST_F(BridgeTest, RecordsFlowFromHostAToHostBInOrderAndComplete) {
    constexpr int count = 100000;
    auto importer = hosts_->b().spawn(bridge, {"import", "Students", "--as", "StudentsB"});
    ASSERT_NE(importer->expect_line("shmrec-bridge: waiting for an exporter"), "")
        << transcript(*importer);

    // The exporter starts before its region exists, and waits for it.
    auto exporter = hosts_->a().spawn(bridge, {"export", "StudentsA", "--topic", "Students"});
    ASSERT_NE(exporter->expect_line("shmrec-bridge: waiting for region 'StudentsA'"), "")
        << transcript(*exporter);

    auto writer = hosts_->a().spawn(peer, {"students-writer", "--name", "StudentsA", "--count",
                                           std::to_string(count), "--capacity", "131072"});
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written " + std::to_string(count));
    ASSERT_NE(exporter->expect_line(
                  "shmrec-bridge: exporting region 'StudentsA' (broadcast of school.Student"),
              "")
        << transcript(*exporter);
    ASSERT_NE(importer->expect_line(
                  "shmrec-bridge: importing topic 'Students' (broadcast of school.Student", 20s),
              "")
        << transcript(*importer);

    // Host B has no region of A's: the reader sees only what the bridge wrote.
    EXPECT_FALSE(std::filesystem::exists(hosts_->b().shm() / "StudentsA"));
    auto reader = hosts_->b().spawn(peer, {"students-reader", "--name", "StudentsB", "--count",
                                           std::to_string(count), "--wait-ms", "20000"});
    const auto read_status = reader->wait_exit(40s);
    reader->read_all(1s);
    EXPECT_TRUE(read_status.ok()) << read_status.describe() << "\n" << transcript(*reader);
    EXPECT_EQ(reader->lines().empty() ? "" : reader->lines().back(),
              "read " + std::to_string(count) + " in order");

    const std::string exported = stop(*exporter, "exported");
    EXPECT_NE(exported.find("exported 100000 records"), std::string::npos) << exported;
    EXPECT_NE(exported.find("lost at the source 0"), std::string::npos) << exported;
    expect_imported(*importer, 100000,
                    "lost at the source 0, missing 0, duplicates 0, refused 0");
    close_writers({writer.get()});
}

TEST_F(BridgeTest, ImporterRefusesARegionOfAnotherRecordTypeAndWritesNothing) {
    // Host B already has a live region by the name the importer is told to write.
    auto other = hosts_->b().spawn(peer, {"other-writer", "--name", "StudentsB"});
    ASSERT_EQ(other->read_line(20s).value_or("(nothing)"), "written 3");

    auto writer = hosts_->a().spawn(
        peer, {"students-writer", "--name", "StudentsA", "--count", "1000", "--capacity", "1024"});
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written 1000");
    auto exporter = hosts_->a().spawn(bridge, {"export", "StudentsA", "--topic", "Students"});
    ASSERT_NE(exporter->expect_line("shmrec-bridge: exporting region 'StudentsA'", 20s), "")
        << transcript(*exporter);

    auto importer = hosts_->b().spawn(bridge, {"import", "Students", "--as", "StudentsB"});
    const auto status = importer->wait_exit(30s);
    importer->read_all(1s);
    EXPECT_EQ(status, shmrec_test::ExitStatus::code_of(3)) << status.describe() << "\n"
                                                           << transcript(*importer);
    const std::string output = transcript(*importer);
    // The runtime's own refusal, naming the region and both record types.
    EXPECT_NE(output.find("'StudentsB'"), std::string::npos) << output;
    EXPECT_NE(output.find("shmrec_test.Other"), std::string::npos) << output;
    EXPECT_NE(output.find("school.Student"), std::string::npos) << output;
    EXPECT_NE(output.find("(type_mismatch)"), std::string::npos) << output;

    auto written = hosts_->b().spawn(peer, {"written", "--name", "StudentsB"});
    EXPECT_EQ(written->read_line(20s).value_or("(nothing)"), "shmrec_test.Other written 3");
    EXPECT_TRUE(written->wait_exit(10s).ok());

    stop(*exporter, "exported");
    close_writers({other.get(), writer.get()});
}

// An importer that refuses its region never receives batches, so it never counts as one: the
// exporter, waiting for an importer, keeps waiting, and the good importer that comes later gets
// every record (it used to count for a moment, and the first batch went to it and was lost).
TEST_F(BridgeTest, AnImporterThatRefusesItsRegionIsNoSubscriberOfTheBatches) {
    auto other = hosts_->b().spawn(peer, {"other-writer", "--name", "StudentsB"});
    ASSERT_EQ(other->read_line(20s).value_or("(nothing)"), "written 3");
    auto writer = hosts_->a().spawn(
        peer, {"students-writer", "--name", "StudentsA", "--count", "1000", "--capacity", "8192"});
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written 1000");
    auto exporter = hosts_->a().spawn(bridge, {"export", "StudentsA", "--topic", "Students"});
    ASSERT_NE(exporter->expect_line("shmrec-bridge: waiting for an importer", 20s), "")
        << transcript(*exporter);

    auto refusing = hosts_->b().spawn(bridge, {"import", "Students", "--as", "StudentsB"});
    EXPECT_EQ(refusing->wait_exit(30s), shmrec_test::ExitStatus::code_of(3))
        << (refusing->read_all(1s), transcript(*refusing));

    auto importer = hosts_->b().spawn(bridge, {"import", "Students", "--as", "StudentsC"});
    EXPECT_EQ(runs_on_b("StudentsC", 1000), "runs 0-999");
    const std::string subscribed =
        exporter->expect_line("shmrec-bridge: an importer subscribed", 20s);
    EXPECT_NE(subscribed.find("(1 now)"), std::string::npos) << transcript(*exporter);
    const std::string exported = stop(*exporter, "exported");
    EXPECT_NE(exported.find("exported 1000 records"), std::string::npos) << exported;
    expect_imported(*importer, 1000, "missing 0, duplicates 0, refused 0");
    close_writers({other.get(), writer.get()});
}

// The source broadcast laps a stalled exporter: the records it overwrote are lost at the
// source, counted by the exporter, carried in the next batch and counted alike by the importer;
// nothing else is lost, nothing duplicated.
TEST_F(BridgeTest, RecordsLostAtTheSourceAreCountedOnBothSides) {
    auto importer = hosts_->b().spawn(bridge, {"import", "Students", "--as", "StudentsB"});
    auto writer = hosts_->a().spawn(
        peer, {"students-writer", "--name", "StudentsA", "--count", "1000", "--capacity", "1024"});
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written 1000");
    auto exporter = hosts_->a().spawn(bridge, {"export", "StudentsA", "--topic", "Students"});

    // Once B has the first 1000, the exporter is stopped and A's writer laps it.
    auto first = hosts_->b().spawn(
        peer, {"students-reader", "--name", "StudentsB", "--count", "1000", "--wait-ms", "20000"});
    const auto first_status = first->wait_exit(30s);
    ASSERT_TRUE(first_status.ok())
        << first_status.describe() << "\n"
        << transcript(*first) << transcript(*importer) << transcript(*exporter);
    exporter->signal(SIGSTOP);
    ASSERT_TRUE(exporter->wait_stopped(10s));
    writer->send("write 5000");
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written 6000");
    exporter->signal(SIGCONT);
    writer->close_stdin();  // closes the region: the exporter says so once it read the rest
    EXPECT_TRUE(writer->wait_exit(10s).ok());
    ASSERT_NE(
        exporter->expect_line("shmrec-bridge: the writer of region 'StudentsA' closed it", 20s), "")
        << transcript(*exporter);

    const std::string exported = stop(*exporter, "exported");
    std::uint64_t records = 0, batches = 0, lost = 0;
    ASSERT_EQ(std::sscanf(exported.c_str(),
                          "shmrec-bridge: exported %" SCNu64 " records in %" SCNu64
                          " batches from region 'StudentsA'; lost at the source %" SCNu64,
                          &records, &batches, &lost),
              3)
        << exported;
    EXPECT_GT(lost, 0u) << exported;
    EXPECT_EQ(records + lost, 6000u) << exported;

    // Everything exported reaches B before the importer is stopped.
    EXPECT_EQ(await_written(hosts_->b(), "StudentsB", records),
              "school.Student written " + std::to_string(records));
    expect_imported(*importer, records,
                    "lost at the source " + std::to_string(lost) +
                        ", missing 0, duplicates 0, refused 0");
}

// Restart rules (docs/bridge.md, "Restarts"): a restarted exporter reads its region from the
// oldest record again; the importer knows the source positions it wrote and skips them, so B
// gets what was written on A while no exporter ran, nothing twice.
TEST_F(BridgeTest, ARestartedExporterResendsWhatTheRegionKeptAndTheImporterSkipsWhatItHas) {
    auto [importer, writer, exporter] = start_stream();
    ASSERT_FALSE(HasFailure());

    exporter->signal(SIGKILL);
    (void)exporter->wait_exit(10s);
    writer->send("write 2000");  // while no exporter runs
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written 3000");
    auto again = hosts_->a().spawn(bridge, {"export", "StudentsA", "--topic", "Students"});
    ASSERT_EQ(await_written(hosts_->b(), "StudentsB", 3000), "school.Student written 3000")
        << transcript(*again) << transcript(*importer);
    EXPECT_EQ(runs_on_b("StudentsB", 3000), "runs 0-2999");

    const std::string exported = stop(*again, "exported");
    EXPECT_NE(exported.find("exported 3000 records"), std::string::npos) << exported;
    expect_imported(*importer, 3000, "missing 0, duplicates 1000, refused 0");
    close_writers({writer.get()});
}

// A killed importer leaves its region behind, and the exporter pauses once the importer's
// lease ends (nobody listens: records wait in the source region). A restarted importer takes
// the region over (a reader on B keeps it from being stale) and gets everything written
// meanwhile: the reader on B sees one stream, in order, nothing lost.
TEST_F(BridgeTest, ARestartedImporterTakesItsRegionOverAndGetsWhatWaitedOnA) {
    auto [importer, writer, exporter] = start_stream();
    ASSERT_FALSE(HasFailure());
    ASSERT_NE(exporter->expect_line("shmrec-bridge: an importer subscribed", 20s), "")
        << transcript(*exporter);
    auto reader = hosts_->b().spawn(peer, {"students-reader", "--name", "StudentsB", "--count",
                                           "3000", "--wait-ms", "20000"});

    importer->signal(SIGKILL);
    (void)importer->wait_exit(10s);
    // The participant lease (3 s) ends: the exporter has no importer and stops reading.
    ASSERT_NE(exporter->expect_line("shmrec-bridge: waiting for an importer", 20s), "")
        << transcript(*exporter);
    writer->send("write 2000");
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written 3000");
    auto again = hosts_->b().spawn(bridge, {"import", "Students", "--as", "StudentsB"});
    const auto read_status = reader->wait_exit(40s);
    reader->read_all(1s);
    EXPECT_TRUE(read_status.ok()) << read_status.describe() << "\n" << transcript(*reader);
    EXPECT_EQ(reader->lines().empty() ? "" : reader->lines().back(), "read 3000 in order");
    // The heir resumes where its predecessor's writes ended; the exporter, seeing a new
    // importer after it had sent batches, sends the region again from its oldest record.
    EXPECT_NE(again->expect_line("shmrec-bridge: resuming where the last import into region "
                                 "'StudentsB' ended: source position 1000"),
              "")
        << transcript(*again);
    EXPECT_NE(again->expect_line("shmrec-bridge: first batch written from source position 1000"),
              "")
        << transcript(*again);
    if (HasFailure()) {
        exporter->signal(SIGTERM);
        again->signal(SIGTERM);
        exporter->read_all(3s);
        again->read_all(3s);
        ADD_FAILURE() << "exporter:\n"
                      << transcript(*exporter) << "importer:\n"
                      << transcript(*again);
        return;
    }

    expect_imported(*again, 2000, "missing 0, duplicates 1000, refused 0");
    stop(*exporter, "exported");
    close_writers({writer.get()});
}

// The importer is killed while records keep coming: the exporter goes on sending to it until
// its lease ends (3 s), and those batches never reach B's region. The heir, started at once,
// resumes at the first position its region lacks, and the exporter (seeing a new importer)
// sends the region again from its oldest record: B's reader reads every record once, in order.
TEST_F(BridgeTest, AnImporterKilledMidStreamIsResumedByItsHeirWithNothingMissing) {
    auto [importer, writer, exporter] = start_stream();
    ASSERT_FALSE(HasFailure());
    ASSERT_NE(exporter->expect_line("shmrec-bridge: an importer subscribed", 20s), "")
        << transcript(*exporter);
    auto reader = hosts_->b().spawn(peer, {"students-reader", "--name", "StudentsB", "--count",
                                           "5000", "--wait-ms", "30000"});
    importer->signal(SIGKILL);
    (void)importer->wait_exit(10s);
    // Inside the lease: these go to the dead importer.
    writer->send("write 2000");
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written 3000");
    auto heir = hosts_->b().spawn(bridge, {"import", "Students", "--as", "StudentsB"});
    ASSERT_NE(heir->expect_line("shmrec-bridge: resumed at source position", 20s), "")
        << transcript(*heir) << transcript(*exporter);
    writer->send("write 2000");
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "written 5000");
    const auto read_status = reader->wait_exit(40s);
    reader->read_all(1s);
    EXPECT_TRUE(read_status.ok()) << read_status.describe() << "\n" << transcript(*reader);
    EXPECT_EQ(reader->lines().empty() ? "" : reader->lines().back(), "read 5000 in order")
        << transcript(*heir) << transcript(*exporter);
    expect_imported(*heir, 4000, "lost at the source 0, missing 0, duplicates 1000");
    stop(*exporter, "exported");
    close_writers({writer.get()});
}

// The writer on A dies and another takes its region over: positions go on, and so does the
// bridge. Then the region is removed and created anew (positions from 0 again, a new epoch):
// the exporter opens the new region, and the importer starts counting positions again instead
// of taking the new records for ones it has.
TEST_F(BridgeTest, AWriterReplacedOrARegionCreatedAnewOnAIsFollowed) {
    auto [importer, writer, exporter] = start_stream();
    ASSERT_FALSE(HasFailure());

    writer->signal(SIGKILL);
    (void)writer->wait_exit(10s);
    ASSERT_NE(exporter->expect_line("shmrec-bridge: the writer of region 'StudentsA' is gone"),
              "")
        << transcript(*exporter);
    auto heir = hosts_->a().spawn(peer, {"students-writer", "--name", "StudentsA", "--count",
                                         "500", "--capacity", "8192", "--take-over", "yes"});
    ASSERT_EQ(heir->read_line(20s).value_or("(nothing)"), "written 1500");
    ASSERT_EQ(await_written(hosts_->b(), "StudentsB", 1500), "school.Student written 1500")
        << transcript(*exporter) << transcript(*importer);

    heir->signal(SIGKILL);
    (void)heir->wait_exit(10s);
    std::filesystem::remove(hosts_->a().shm() / "StudentsA");
    auto fresh = hosts_->a().spawn(
        peer, {"students-writer", "--name", "StudentsA", "--count", "700", "--capacity", "8192"});
    ASSERT_EQ(fresh->read_line(20s).value_or("(nothing)"), "written 700");
    ASSERT_NE(exporter->expect_line("shmrec-bridge: region 'StudentsA' was removed or created "
                                    "anew",
                                    20s),
              "")
        << transcript(*exporter);
    ASSERT_EQ(await_written(hosts_->b(), "StudentsB", 2200), "school.Student written 2200")
        << transcript(*exporter) << transcript(*importer);
    EXPECT_EQ(runs_on_b("StudentsB", 2200), "runs 0-1499 0-699");

    expect_imported(*importer, 2200, "missing 0, duplicates 0, refused 0");
    stop(*exporter, "exported");
    close_writers({fresh.get()});
}

// A cell is exported value by value and imported into a cell: B's readers see its values in
// order, ending with the latest; superseded values are no loss.
TEST_F(BridgeTest, ACellIsCarriedValueByValueIntoACell) {
    auto importer = hosts_->b().spawn(bridge, {"import", "Latest", "--as", "LatestB"});
    auto writer = hosts_->a().spawn(peer, {"student-cell-writer", "--name", "LatestA"});
    writer->send("set 1");
    ASSERT_EQ(writer->read_line(20s).value_or("(nothing)"), "set 1");
    auto exporter = hosts_->a().spawn(bridge, {"export", "LatestA", "--topic", "Latest"});
    ASSERT_NE(exporter->expect_line("shmrec-bridge: exporting region 'LatestA' (cell of "
                                    "school.Student",
                                    20s),
              "")
        << transcript(*exporter);
    ASSERT_NE(importer->expect_line("shmrec-bridge: importing topic 'Latest' (cell of", 20s), "")
        << transcript(*importer);
    auto first = hosts_->b().spawn(
        peer, {"student-cell-reader", "--name", "LatestB", "--until", "1", "--wait-ms", "20000"});
    EXPECT_EQ(first->read_line(30s).value_or("(nothing)"), "latest 1 after 1 values");

    // A reader on B follows the values as they come, up to the last one set on A.
    auto follower = hosts_->b().spawn(
        peer, {"student-cell-reader", "--name", "LatestB", "--until", "500", "--wait-ms", "20000"});
    for (int id = 2; id <= 500; ++id) writer->send("set " + std::to_string(id));
    EXPECT_EQ(writer->expect_line("set 500", 20s), "set 500");
    const std::string followed = follower->read_line(30s).value_or("(nothing)");
    EXPECT_EQ(followed.rfind("latest 500 after ", 0), 0u) << followed << transcript(*follower);

    stop(*exporter, "exported");
    const std::string imported = stop(*importer, "imported");
    EXPECT_NE(imported.find("lost at the source 0, missing 0, duplicates 0, refused 0"),
              std::string::npos)
        << imported;
    close_writers({writer.get()});
}

// A ring is exported as its one consumer: its records leave A's ring only once B's region
// holds them, so nothing is lost end to end, and when nobody reads on B the backpressure
// reaches A's writer (B's ring full, A's ring full). An importer killed mid-stream loses
// nothing either: its heir resumes and the exporter sends what B had not reported written.
TEST_F(BridgeTest, ARingIsExportedAsItsConsumerLosslesslyWithBackpressureToAsWriter) {
    constexpr int count = 20000;
    auto importer = hosts_->b().spawn(bridge, {"import", "Students", "--as", "StudentsB"});
    auto writer = hosts_->a().spawn(peer, {"student-ring-writer", "--name", "StudentsA",
                                           "--count", std::to_string(count), "--capacity", "256"});
    auto exporter = hosts_->a().spawn(bridge, {"export", "StudentsA", "--topic", "Students"});
    // Nobody consumes on B: B's ring (256) and then A's (256 sent, not yet written on B) fill,
    // and A's writer waits.
    const std::string full = writer->read_line(20s).value_or("(nothing)");
    EXPECT_EQ(full.rfind("full at ", 0), 0u) << full << transcript(*exporter) << transcript(*importer);
    EXPECT_FALSE(writer->read_line(1s).has_value()) << "the writer did not wait for B";

    // B's reader takes 5000 and pauses: B's ring fills again, and so do the records sent and
    // not yet written on B. Then the importer dies with records in flight.
    auto reader = hosts_->b().spawn(peer, {"student-ring-reader", "--name", "StudentsB", "--count",
                                           std::to_string(count), "--wait-ms", "20000",
                                           "--pause-at", "5000"});
    ASSERT_EQ(reader->read_line(30s).value_or("(nothing)"), "paused at 5000")
        << transcript(*reader);
    std::this_thread::sleep_for(500ms);  // (what flows after the pause: it fills the rings)
    importer->signal(SIGKILL);
    (void)importer->wait_exit(10s);
    auto heir = hosts_->b().spawn(bridge, {"import", "Students", "--as", "StudentsB"});
    ASSERT_NE(heir->expect_line("shmrec-bridge: resuming where the last import", 20s), "")
        << transcript(*heir);
    reader->send("go");
    EXPECT_EQ(writer->read_line(60s).value_or("(nothing)"), "written " + std::to_string(count))
        << transcript(*exporter) << transcript(*heir);
    const auto read_status = reader->wait_exit(60s);
    reader->read_all(1s);
    EXPECT_TRUE(read_status.ok()) << read_status.describe() << "\n" << transcript(*reader);
    EXPECT_EQ(reader->lines().empty() ? "" : reader->lines().back(),
              "read " + std::to_string(count) + " in order from 0")
        << transcript(*heir) << transcript(*exporter);
    const std::string imported = stop(*heir, "imported");
    EXPECT_NE(imported.find("lost at the source 0, missing 0"), std::string::npos)
        << imported << transcript(*heir) << transcript(*exporter);
    const std::string exported = stop(*exporter, "exported");
    EXPECT_NE(exported.find("lost at the source 0"), std::string::npos) << exported;
    close_writers({writer.get()});
}

// A second exporter on the topic with the same record from another kind of region (a cell,
// where the importer writes a broadcast): its identity is refused, and so are its batches
// (by their source epoch, since a batch names its record, not its kind).
TEST_F(BridgeTest, AnExporterOfAnotherKindOfRegionOnTheTopicIsRefusedWithItsBatches) {
    auto [importer, writer, exporter] = start_stream({"--status", "1"});
    ASSERT_FALSE(HasFailure());

    auto cell = hosts_->a().spawn(peer, {"student-cell-writer", "--name", "LatestA"});
    cell->send("set 7");
    ASSERT_EQ(cell->read_line(20s).value_or("(nothing)"), "set 7");
    auto intruder = hosts_->a().spawn(bridge, {"export", "LatestA", "--topic", "Students"});
    ASSERT_NE(importer->expect_line("shmrec-bridge: refused an identity of a cell of "
                                    "school.Student",
                                    20s),
              "")
        << transcript(*importer);
    // The identity, then the cell's batch: two refusals, seen on a status line.
    std::string line;
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         line.find("refused 2") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline;) {
        line = importer->read_line(20s).value_or("");
    }
    EXPECT_NE(line.find("imported 1000 records"), std::string::npos) << transcript(*importer);
    EXPECT_NE(line.find("refused 2"), std::string::npos) << transcript(*importer);
    EXPECT_EQ(await_written(hosts_->b(), "StudentsB", 1000), "school.Student written 1000");

    stop(*intruder, "exported");
    stop(*exporter, "exported");
    stop(*importer, "imported");
    close_writers({cell.get(), writer.get()});
}

// `shmrec-bridge run FILE`: the lines of a config file run side by side in one process, each
// with its own region and topic, on one DDS participant per host.
TEST_F(BridgeTest, OneProcessRunsEveryLineOfAConfigFile) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("shmrec-bridge-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto write_file = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir / name) << text;
        return (dir / name).string();
    };
    const std::string on_a = write_file("a.conf",
                                        "# host A: two regions out\n"
                                        "export StudentsA --topic First\n"
                                        "\n"
                                        "export StudentsA2 --topic Second --batch 100 "
                                        "--wait busy_spin  # small, polled\n");
    const std::string on_b = write_file("b.conf",
                                        "import First --as FirstB\n"
                                        "import Second --as SecondB --capacity 4096\n");
    auto importers = hosts_->b().spawn(bridge, {"run", on_b});
    auto exporters = hosts_->a().spawn(bridge, {"run", on_a, "--status", "1"});
    auto first = hosts_->a().spawn(
        peer, {"students-writer", "--name", "StudentsA", "--count", "3000", "--capacity", "4096"});
    auto second = hosts_->a().spawn(
        peer, {"students-writer", "--name", "StudentsA2", "--count", "2000", "--capacity", "4096"});
    ASSERT_EQ(first->read_line(20s).value_or("(nothing)"), "written 3000");
    ASSERT_EQ(second->read_line(20s).value_or("(nothing)"), "written 2000");
    EXPECT_EQ(runs_on_b("FirstB", 3000), "runs 0-2999") << transcript(*exporters);
    EXPECT_EQ(runs_on_b("SecondB", 2000), "runs 0-1999") << transcript(*importers);
    ASSERT_NE(exporters->expect_line("shmrec-bridge: status: export 'StudentsA2'", 20s), "")
        << transcript(*exporters);
    // Each line waits its own way: the second one polls.
    const auto exporting = [&](const std::string& topic) {
        for (const auto& line : exporters->lines()) {
            if (line.find("as topic '" + topic + "'") != std::string::npos) return line;
        }
        return std::string("(no such line)");
    };
    EXPECT_EQ(exporting("First").find("waiting by"), std::string::npos) << exporting("First");
    EXPECT_NE(exporting("Second").find(", waiting by busy_spin"), std::string::npos)
        << exporting("Second");

    // Both summaries of each process, in any order.
    const auto summaries = [&](ChildProcess& p) {
        p.signal(SIGTERM);
        EXPECT_TRUE(p.wait_exit(10s).ok()) << transcript(p);
        p.read_all(5s);
        std::string all;
        for (const auto& line : p.lines()) {
            if (line.find(" records in ") != std::string::npos &&
                line.find("status:") == std::string::npos) {
                all += line + "\n";
            }
        }
        return all;
    };
    const std::string exported = summaries(*exporters);
    EXPECT_NE(exported.find("exported 3000 records in"), std::string::npos) << exported;
    EXPECT_NE(exported.find("exported 2000 records in"), std::string::npos) << exported;
    const std::string imported = summaries(*importers);
    EXPECT_NE(imported.find("imported 3000 records in"), std::string::npos) << imported;
    EXPECT_NE(imported.find("imported 2000 records in"), std::string::npos) << imported;
    close_writers({first.get(), second.get()});
    std::filesystem::remove_all(dir);
}

// A config file is read whole before anything starts: the first bad line is named, exit 2.
TEST(BridgeCommandLine, AConfigFileIsCheckedLineByLineBeforeAnythingStarts) {
    const std::filesystem::path file =
        std::filesystem::temp_directory_path() /
        ("shmrec-bridge-bad-" + std::to_string(::getpid()) + ".conf");
    const auto refusal = [&](const std::string& text) {
        std::ofstream(file) << text;
        ChildProcess p("sh", {"-c", "exec \"$0\" run \"$1\" 2>&1", bridge, file.string()});
        p.close_stdin();
        p.read_all(10s);
        EXPECT_EQ(p.wait_exit(10s), shmrec_test::ExitStatus::code_of(2)) << transcript(p);
        return p.lines().empty() ? std::string() : p.lines().back();
    };
    const std::string name = file.string();
    EXPECT_EQ(refusal("export A\n# fine so far\n\nimport T --as B --capacity 3\n"),
              "shmrec-bridge: " + name + ":4: --capacity must be a power of two");
    EXPECT_EQ(refusal("export A --topic T\nexport B --topic T\n"),
              "shmrec-bridge: " + name + ":2: topic 'T' is exported by an earlier line");
    EXPECT_EQ(refusal("import T --as R\nimport U --as R\n"),
              "shmrec-bridge: " + name + ":2: region 'R' is imported into by an earlier line");
    EXPECT_EQ(refusal("export A --wait nap\n"),
              "shmrec-bridge: " + name + ":1: --wait: nap not in {futex,busy_spin,spin_yield}");
    EXPECT_EQ(refusal("frobnicate A\n"),
              "shmrec-bridge: " + name + ":1: 'frobnicate' is not a command (export or import)");
    EXPECT_EQ(refusal("# only a comment\n"), "shmrec-bridge: " + name + ": no command in it");
    std::filesystem::remove(file);
}

// Bad arguments are refused before anything starts: exit status 2 and the reason.
TEST(BridgeCommandLine, ARegionNameThatIsNoTopicNameNeedsTopic) {
    ChildProcess p("sh", {"-c", "exec \"$0\" export my-region 2>&1", bridge});
    p.close_stdin();
    p.read_all(10s);
    EXPECT_EQ(p.wait_exit(10s), shmrec_test::ExitStatus::code_of(2));
    EXPECT_NE(transcript(p).find("topic 'my-region' holds '-'"), std::string::npos)
        << transcript(p);
    EXPECT_NE(transcript(p).find("give --topic"), std::string::npos) << transcript(p);
}

}  // namespace
