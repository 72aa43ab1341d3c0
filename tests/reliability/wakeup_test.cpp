// Lost and spurious wake-ups (RELIABILITY B3, B4). B3: the reader is stopped exactly between
// its last check and its futex sleep (fault point wait.before_sleep; on Windows also between
// creating its wake event and its last look at the doorbell, wait.after_event), the writer
// publishes in that gap, and the reader, resumed, must not sleep through it. B4: a third process issues
// FUTEX_WAKE on the channel's doorbells (the words readers sleep on) and on its counters at
// random while a reader sleeps; every wake-up is re-checked against the shared counters, so
// none becomes a delivery.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <iostream>
#include <string>

#include "reliability_support.hpp"
#include "reliability_test_support.hpp"

namespace reltest {
namespace {

// Where the reader is stopped: wait.before_sleep (after its last check of the data, before it
// sleeps: every OS), wait.after_event (Windows: its wake event created, its last check of the
// doorbell word not yet made; runtime/src/windows/event_word.cpp).
struct SleepWindow {
    const char* kind;
    const char* point;
};

void PrintTo(const SleepWindow& w, std::ostream* os) { *os << w.kind << " at " << w.point; }

class LostWakeup : public ::testing::TestWithParam<SleepWindow> {
protected:
    Names names_;
};

// B3, deterministic: publish between the reader's check and its sleep. The reader waits with
// no spin and a 10 s liveness interval, so a missed wake-up would cost ~10 s; the futex's own
// comparison of the doorbell word (rung because the reader registered before its check) must
// send it back to look at once. On Windows, where the futex is a named event per sleeper, the
// publish also lands between the event's creation and the sleeper's last look at the word.
TEST_P(LostWakeup, PublishBetweenCheckAndSleepIsNotSleptThrough) {
    const std::string kind = GetParam().kind;
    const std::string point = GetParam().point;
#if !defined(_WIN32)
    if (point == "wait.after_event") {
        GTEST_SKIP() << "Windows-only fault point: a futex wait compares the word in the kernel, "
                        "there is no event to create before the last check";
    }
#endif
    const std::string name = names_.make("lost");
    Peer writer({"write", "--kind", kind, "--name", name, "--capacity", "8", "--count", "1",
                 "--wait-go", "--progress", "--hold"});
    ASSERT_FALSE(writer.expect_line("ready").empty());
    Peer reader({"read", "--kind", kind, "--name", name, "--futex-only", "--timeout-ms", "20000",
                 "--deadline-ms", "30000"},
                point + ":1:stop");
    ASSERT_FALSE(reader.expect_line("ready").empty());
    ASSERT_TRUE(reader.wait_stopped(10s)) << "the reader never reached " << point;
    writer.send("go");
    ASSERT_FALSE(writer.expect_line("w seq=").empty());
    const auto resumed = std::chrono::steady_clock::now();
    reader.signal(SIGCONT);
    const std::string got = reader.expect_line("r seq=", 5s);
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                              resumed)
                        .count();
    std::cout << "B3 " << kind << " " << point << ": record after " << ms << " ms\n";
    ASSERT_FALSE(got.empty()) << "the reader slept through the publish";
    EXPECT_LT(ms, 1000.0) << "the reader woke only by a later check, not by the futex";
    reader.send("quit");
    writer.send("quit");
    EXPECT_TRUE(reader.wait_exit(15s).exited);
    EXPECT_TRUE(writer.wait_exit(15s).exited);
}

INSTANTIATE_TEST_SUITE_P(
    Wakeups, LostWakeup,
    ::testing::Values(SleepWindow{"cell", "wait.before_sleep"}, SleepWindow{"ring", "wait.before_sleep"},
                      SleepWindow{"broadcast", "wait.before_sleep"},
                      SleepWindow{"cell", "wait.after_event"}, SleepWindow{"ring", "wait.after_event"},
                      SleepWindow{"broadcast", "wait.after_event"}),
    [](const auto& param_info) {
        std::string point = param_info.param.point;
        for (auto& c : point) c = c == '.' ? '_' : c;
        return std::string(param_info.param.kind) + "_" + point;
    });

class SpuriousWakeups : public ::testing::TestWithParam<const char*> {
protected:
    Names names_;
};

TEST_P(SpuriousWakeups, RandomFutexWakesNeverBecomeDeliveries) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: FUTEX_WAKE on the region's doorbell words from another process; Windows "
                 "waiters sleep on named kernel events, not on the words";
#else
    const std::string kind = GetParam();
    const std::string name = names_.make("wake");
    const int records = 20;
    // A record every 50 ms and reads that time out after 30 ms: the reader spends most of
    // its time asleep on the doorbell futex, where the waker's wake-ups find it.
    Peer writer({"write", "--kind", kind, "--name", name, "--capacity", "8", "--count",
                 std::to_string(records), "--interval-us", "50000", "--wait-go"});
    ASSERT_FALSE(writer.expect_line("ready").empty());
    Peer reader({"read", "--kind", kind, "--name", name, "--timeout-ms", "30"});
    ASSERT_FALSE(reader.expect_line("ready").empty());
    Peer waker({"waker", "--kind", kind, "--name", name, "--duration-ms", "1200", "--seed",
                std::to_string(shmrec_test::this_pid())});
    ASSERT_FALSE(waker.expect_line("waker started").empty());
    writer.send("go");
    ASSERT_TRUE(writer.wait_exit(15s).exited);
    ASSERT_TRUE(reader.wait_exit(15s).exited);
    ASSERT_TRUE(waker.wait_exit(15s).exited);
    const std::string woke = waker.expect_line("waker done", 1s);
    const ReaderLog log(reader.read_all(1s));
    std::cout << "B4 " << kind << ": " << woke << "; reader " << log.end << "\n";
    // The waker really woke sleeping readers, or the test proved nothing.
    EXPECT_GT(line_u64(woke, "woke"), 0u) << woke;
    EXPECT_EQ(log.bad(), 0u);
    EXPECT_GT(line_u64(log.end, "timeouts"), 0u) << log.end;
    EXPECT_EQ(line_u64(log.end, "false"), 0u) << log.end;
    EXPECT_EQ(line_u64(log.end, "order"), 0u) << log.end;
    if (kind == "cell") {
        ASSERT_FALSE(log.seqs().empty());
        EXPECT_EQ(log.seqs().back(), static_cast<std::uint64_t>(records - 1));
    } else {
        EXPECT_EQ(log.seqs(), iota_seqs(0, records)) << join(reader.lines());
    }
#endif
}

INSTANTIATE_TEST_SUITE_P(Wakeups, SpuriousWakeups, ::testing::Values("cell", "ring", "broadcast"),
                         [](const auto& param_info) { return std::string(param_info.param); });

}  // namespace
}  // namespace reltest
