// Which clock the blocking waits use (RELIABILITY R7) and that their futexes are shared
// between processes (B1, rule 12). A clock jump cannot be staged on a shared CI machine, so
// this looks at the mechanism instead: every futex wait the library makes is FUTEX_WAIT with
// a relative timeout (measured by the kernel on CLOCK_MONOTONIC), never FUTEX_CLOCK_REALTIME
// or an absolute FUTEX_WAIT_BITSET deadline, and never FUTEX_PRIVATE_FLAG; and a 200 ms wait
// lasts at least 200 ms of the steady clock.
//
// The test binary interposes syscall(): the runtime reaches the kernel's futex through it
// (runtime/src/posix/event_word.cpp), so every futex operation it makes passes through
// record() below.
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>

#include <mutex>
#include <string>
#include <vector>

#include "futex_spy.hpp"
#include "reliability_support.hpp"
#include "reliability_test_support.hpp"
#include "shmrec/shmrec.hpp"

namespace {

struct FutexCall {
    int op;
    bool has_timeout;
    long timeout_ns;
};

std::mutex g_mutex;
std::vector<FutexCall> g_calls;

void record(long op, const timespec* ts) {
    const std::lock_guard<std::mutex> lock(g_mutex);
    g_calls.push_back({static_cast<int>(op), ts != nullptr,
                       ts != nullptr ? ts->tv_sec * 1'000'000'000L + ts->tv_nsec : 0});
}

std::vector<FutexCall> take_calls() {
    const std::lock_guard<std::mutex> lock(g_mutex);
    return std::exchange(g_calls, {});
}

}  // namespace

void on_futex(long op, const timespec* timeout) { record(op, timeout); }

namespace reltest {
namespace {

using shmrec_test::Checked;

void expect_monotonic_shared_waits(const std::vector<FutexCall>& calls,
                                   std::chrono::milliseconds longest_slice) {
    int waits = 0;
    for (const auto& c : calls) {
        EXPECT_EQ(c.op & FUTEX_PRIVATE_FLAG, 0) << "a private futex cannot wake another process";
        EXPECT_EQ(c.op & FUTEX_CLOCK_REALTIME, 0) << "a futex wait on the wall clock";
        const int cmd = c.op & FUTEX_CMD_MASK;
        EXPECT_TRUE(cmd == FUTEX_WAIT || cmd == FUTEX_WAKE) << "futex op " << c.op;
        if (cmd != FUTEX_WAIT) continue;
        ++waits;
        // Relative and bounded: a sleep never outlasts one liveness interval.
        ASSERT_TRUE(c.has_timeout);
        EXPECT_GT(c.timeout_ns, 0);
        EXPECT_LE(c.timeout_ns, std::chrono::nanoseconds(longest_slice).count());
    }
    EXPECT_GT(waits, 0) << "no futex wait was seen: is the interposer in the path?";
}

TEST(FutexClock, CellWaitIsRelativeMonotonicAndShared) {
    Names names;
    const std::string name = names.make("clock-cell");
    auto writer = shmrec::Cell<Checked>::writer(name);
    auto reader = shmrec::Cell<Checked>::reader(name);
    Checked out;
    take_calls();
    const auto t0 = Clock::now();
    EXPECT_EQ(reader.read(out, 200ms), shmrec::ReadStatus::timeout);
    const double ms = ms_since(t0);
    EXPECT_GE(ms, 200.0);
    EXPECT_LT(ms, 300.0);
    expect_monotonic_shared_waits(take_calls(), shmrec::WaitOptions{}.liveness_interval);
}

TEST(FutexClock, RingAndBroadcastWaitsAreRelativeMonotonicAndShared) {
    Names names;
    const std::string ring = names.make("clock-ring");
    const std::string bcast = names.make("clock-bcast");
    auto rw = shmrec::Ring<Checked>::writer(ring, 8);
    auto rr = shmrec::Ring<Checked>::reader(ring);
    auto bw = shmrec::Broadcast<Checked>::writer(bcast, 8);
    auto br = shmrec::Broadcast<Checked>::reader(bcast);
    Checked out;
    take_calls();
    for (auto* which : {"ring", "broadcast"}) {
        SCOPED_TRACE(which);
        const auto t0 = Clock::now();
        const auto s = std::string(which) == "ring" ? rr.read(out, 200ms) : br.read(out, 200ms);
        EXPECT_EQ(s, shmrec::ReadStatus::timeout);
        const double ms = ms_since(t0);
        EXPECT_GE(ms, 200.0);
        EXPECT_LT(ms, 300.0);
    }
    // A full ring makes the writer sleep too.
    for (int i = 0; i < 8; ++i) ASSERT_EQ(rw.try_write(make_checked(i)), shmrec::WriteStatus::ok);
    EXPECT_EQ(rw.write(make_checked(8), 100ms), shmrec::WriteStatus::timeout);
    expect_monotonic_shared_waits(take_calls(), shmrec::WaitOptions{}.liveness_interval);
}

// The writer's wake-ups are shared futex wakes too, and go out only when a reader sleeps.
TEST(FutexClock, WakesAreSharedAndOnlyWhenSomeoneSleeps) {
    Names names;
    const std::string name = names.make("clock-wake");
    auto writer = shmrec::Cell<Checked>::writer(name);
    take_calls();
    ASSERT_EQ(writer.try_write(make_checked(0)), shmrec::WriteStatus::ok);
    EXPECT_TRUE(take_calls().empty()) << "a wake system call with nobody waiting";
    auto reader = shmrec::Cell<Checked>::reader(name);
    Checked first;
    ASSERT_EQ(reader.try_read(first), shmrec::ReadStatus::ok);  // nothing new until record 1
    Checked second;
    shmrec::ReadStatus woke_with = shmrec::ReadStatus::empty;
    std::thread sleeper([&] { woke_with = reader.read(second, 2s); });
    std::this_thread::sleep_for(100ms);
    ASSERT_EQ(writer.try_write(make_checked(1)), shmrec::WriteStatus::ok);
    sleeper.join();
    EXPECT_EQ(woke_with, shmrec::ReadStatus::ok);
    EXPECT_EQ(second.seq, 1u);
    bool woke = false;
    for (const auto& c : take_calls()) {
        EXPECT_EQ(c.op & FUTEX_PRIVATE_FLAG, 0);
        woke |= (c.op & FUTEX_CMD_MASK) == FUTEX_WAKE;
    }
    EXPECT_TRUE(woke);
}

}  // namespace
}  // namespace reltest
