// Hostile or damaged shared counters, and lapped broadcast readers (RELIABILITY C6, C13).
// Header validation (C1-C5, C12) is covered by tests/unit.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "reliability_support.hpp"
#include "reliability_test_support.hpp"

namespace reltest {
namespace {

class ChaosCounters : public ::testing::TestWithParam<const char*> {
protected:
    Names names_;
};

// C6: a chaos process maps the region read-write and stores random values (jumps forward and
// back, zero, near-wrap, whole laps ahead) into the control words and every slot's sequence
// word at about 10 kHz, while a writer writes and a reader drains. Neither end crashes or
// hangs: every blocking call returns within its timeout (plus slack), the reader reports what
// it cannot trust (corrupt), and both exit normally when asked to.
TEST_P(ChaosCounters, ReaderNeverCrashesOrHangsAndReportsCorruption) {
    const std::string kind = GetParam();
    const std::string name = names_.make("chaos");
    const int read_timeout_ms = 20;
    // A ring writer refuses a garbage head (it never trusts more room than the ring has), so
    // a damaged head or slot can keep the ring "full" for good: it gives up after
    // --give-up-ms, which outlasts the chaos, so the reader meets a live writer throughout.
    Peer writer({"write", "--kind", kind, "--name", name, "--capacity", "8", "--interval-us",
                 "100", "--give-up-ms", "2000"});
    ASSERT_FALSE(writer.expect_line("ready").empty());
    Peer reader({"read", "--kind", kind, "--name", name, "--quiet", "--timeout-ms",
                 std::to_string(read_timeout_ms), "--deadline-ms", "2500"});
    ASSERT_FALSE(reader.expect_line("ready").empty());
    const auto t0 = Clock::now();
    Peer chaos({"chaos", "--kind", kind, "--name", name, "--duration-ms", "1500", "--seed",
                std::to_string(shmrec_test::this_pid())});
    const ExitStatus cs = chaos.wait_exit(10s);
    ASSERT_TRUE(cs.exited && cs.code == 0) << cs.describe();
    const std::string chaos_done = chaos.expect_line("chaos done", 1s);

    const ExitStatus rs = reader.wait_exit(10s);
    ASSERT_FALSE(rs.timed_out) << "reader hung";
    EXPECT_TRUE(rs.exited && rs.code == 0) << "reader: " << rs.describe();
    EXPECT_LT(ms_since(t0), 2500.0 + 3000.0);
    const std::string end = reader.expect_line("end", 1s);
    ASSERT_FALSE(end.empty()) << join(reader.lines());

    // The writer may have given up already (exit 4, see below) and stopped reading commands.
    send_if_alive(writer, "quit");
    const ExitStatus ws = writer.wait_exit(10s);
    ASSERT_FALSE(ws.timed_out) << "writer hung";
    // 0, or 4 when the garbage head kept the ring "full" past --give-up-ms: both are clean.
    EXPECT_TRUE(ws.exited && (ws.code == 0 || ws.code == 4)) << "writer: " << ws.describe();

    std::cout << "C6 " << kind << ": " << chaos_done << "; reader " << end << "\n";
    // A blocking read never overstays its timeout by much (liveness checks and futex slices
    // are bounded); 500 ms of slack for a loaded 2-core machine or a sanitizer build.
    EXPECT_LT(std::stod(line_value(end, "max_step_ms")), read_timeout_ms + 500.0) << end;
    if (kind != "cell") {
        // Slot sequence words far ahead of the reader are impossible for a healthy writer.
        EXPECT_GT(line_u64(end, "corrupt"), 0u) << end;
    }
}

INSTANTIATE_TEST_SUITE_P(Corruption, ChaosCounters, ::testing::Values("ring", "broadcast", "cell"),
                         [](const auto& param_info) { return std::string(param_info.param); });

// C13: a broadcast reader stopped while the writer publishes more than five times the
// capacity, then continued. Its loss count is exact (lost == written - received), every record
// it got is intact, and the records it missed are exactly the gaps in what it got.
TEST(Corruption, LappedBroadcastReaderCountsItsLossExactly) {
    Names names;
    const std::string name = names.make("lapped");
    const std::uint64_t capacity = 64;
    Peer writer({"write", "--kind", "broadcast", "--name", name, "--capacity",
                 std::to_string(capacity), "--interval-us", "100", "--wait-go", "--progress"});
    ASSERT_FALSE(writer.expect_line("ready").empty());
    Peer reader({"read", "--kind", "broadcast", "--name", name, "--quiet", "--timeout-ms", "50"});
    const std::string ready = reader.expect_line("ready");
    ASSERT_FALSE(ready.empty());
    EXPECT_EQ(line_u64(ready, "start"), 0u);
    writer.send("go");
    ASSERT_FALSE(writer.expect_line("w seq=20").empty());

    reader.signal(SIGSTOP);
    ASSERT_TRUE(reader.wait_stopped());
    // Progress lines are written after each publish: the last one read is a lower bound of
    // what was published when the reader stopped.
    std::uint64_t at_stop = 0;
    writer.send("stats");
    const std::string stats = writer.expect_line("stats");
    ASSERT_FALSE(stats.empty());
    at_stop = line_u64(stats, "written");
    const std::uint64_t target = at_stop + 6 * capacity;
    ASSERT_FALSE(writer.expect_line("w seq=" + std::to_string(target), 20s).empty());
    reader.signal(SIGCONT);
    std::this_thread::sleep_for(50ms);
    writer.send("quit");
    ASSERT_TRUE(writer.wait_exit(exit_timeout).exited);
    const std::string done = writer.expect_line("done", 2s);
    ASSERT_FALSE(done.empty()) << join(writer.lines());
    const std::uint64_t written = line_u64(done, "written");

    ASSERT_TRUE(reader.wait_exit(exit_timeout).exited);
    const std::string end = reader.expect_line("end", 2s);
    ASSERT_FALSE(end.empty()) << join(reader.lines());
    const std::uint64_t received = line_u64(end, "received");
    const std::uint64_t lost = line_u64(end, "lost");
    std::cout << "C13: written=" << written << " during stop >= " << 6 * capacity
              << "; reader " << end << "\n";
    EXPECT_EQ(lost, written - received) << end;
    EXPECT_EQ(line_u64(end, "gaps"), lost) << "the reported loss is not where the gaps are";
    EXPECT_EQ(line_u64(end, "bad"), 0u);
    EXPECT_EQ(line_u64(end, "order"), 0u);
    EXPECT_GE(lost, 5 * capacity);
    EXPECT_EQ(line_u64(end, "lib_received"), received);
}

}  // namespace
}  // namespace reltest
