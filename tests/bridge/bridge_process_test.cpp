// shmrec-bridge end to end: real processes on two simulated hosts (two_hosts.hpp), the local
// writer and reader played by shmrec_bridge_test_peer. Skipped, with the reason, where network
// namespaces cannot be made (not root, a container without CAP_SYS_ADMIN).
#include <gtest/gtest.h>
#include <signal.h>

#include <cinttypes>
#include <cstdio>
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
    ASSERT_NE(exporter->expect_line("shmrec-bridge: exporting region 'StudentsA' (school.Student"),
              "")
        << transcript(*exporter);
    ASSERT_NE(
        importer->expect_line("shmrec-bridge: importing topic 'Students' (school.Student", 20s), "")
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
    const std::string imported = stop(*importer, "imported");
    EXPECT_NE(imported.find("imported 100000 records"), std::string::npos) << imported;
    EXPECT_NE(imported.find("lost at the source 0, missing 0, duplicates 0, refused 0"),
              std::string::npos)
        << imported;
    writer->close_stdin();
    EXPECT_TRUE(writer->wait_exit(10s).ok());
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
    other->close_stdin();
    writer->close_stdin();
    EXPECT_TRUE(other->wait_exit(10s).ok());
    EXPECT_TRUE(writer->wait_exit(10s).ok());
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
    std::string written;
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto probe = hosts_->b().spawn(peer, {"written", "--name", "StudentsB"});
        written = probe->read_line(10s).value_or("");
        (void)probe->wait_exit(10s);
        if (written == "school.Student written " + std::to_string(records)) break;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(written, "school.Student written " + std::to_string(records));
    const std::string imported = stop(*importer, "imported");
    EXPECT_NE(imported.find("imported " + std::to_string(records) + " records"), std::string::npos)
        << imported;
    EXPECT_NE(imported.find("lost at the source " + std::to_string(lost) +
                            ", missing 0, duplicates 0, refused 0"),
              std::string::npos)
        << imported;
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
