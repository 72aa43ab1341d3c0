// Adversarial review of the shared words: a peer that dies asleep, or lies, at an exact point.
// Each test forces its interleaving: a process test stops shmrec_regression_peer at a fault
// point (SHMREC_FAULT="<point>:<n>:stop") and kills it there; an in-process test writes the
// shared state a lying peer leaves through detail::CellView / RingView.
//
// Its own binary: it interposes syscall() (futex_spy.hpp, one TU per binary) to count the
// futex wakes the runtime makes after a dead waiter was reaped. That counting is Linux-only; on
// Windows those checks are left out and the rest runs.
#include <gtest/gtest.h>
#include <signal.h>
#if defined(__linux__)
#include <linux/futex.h>
#endif

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "checked_record.hpp"
#include "regression_support.hpp"
#include "child_process.hpp"
#if defined(__linux__)
#include "futex_spy.hpp"
#endif
#include "printers.hpp"
#include "shmrec/shmrec.hpp"
#include "test_names.hpp"
#include "test_records.shmrec.hpp"
#include "timing.hpp"

namespace {
std::atomic<int> g_futex_wakes{0};
}  // namespace

#if defined(__linux__)
void on_futex(long op, const timespec* /*timeout*/) {
    if ((op & FUTEX_CMD_MASK) == FUTEX_WAKE) g_futex_wakes.fetch_add(1);
}
#endif

namespace {

using namespace std::chrono_literals;
using shmrec_regress_test::doorbell_only;
using shmrec_regress_test::peer;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec_test::Checked;
using shmrec_test::ChildProcess;
using shmrec_test::make_checked;
using CheckedCell = shmrec::Cell<Checked>;
using CheckedRing = shmrec::Ring<Checked>;
using Clock = std::chrono::steady_clock;

class Adversary : public shmrec_test::RegionFixture {};

// Bit 0 of a ring's registries: its consumer (writer) is registered asleep.
bool consumer_asleep(const shmrec::detail::RingView<Checked>& view) {
    return (view.control->consumer_waiting.load() & 1) != 0;
}
bool writer_asleep(const shmrec::detail::RingView<Checked>& view) {
    return (view.control->writer_waiting.load() & 1) != 0;
}

// --- A1: a ring consumer killed asleep for data; its successor clears the stale bit at attach,
// then parks, and the writer's publish wakes it at once.
TEST_F(Adversary, A1RingConsumerKilledAsleepSuccessorClearsTheBitAndIsWoken) {
    const std::string n = name();
    auto writer = CheckedRing::writer(n, 16);
    const shmrec::detail::RingView<Checked> view(writer.region());
    auto dead = peer({"ring-read", n}, "wait.before_sleep:1:stop");
    ASSERT_EQ(dead->expect_line("ready"), "ready");
    ASSERT_TRUE(dead->wait_stopped());
    ASSERT_TRUE(consumer_asleep(view)) << "registered before its sleep";
    dead->signal(SIGKILL);
    EXPECT_FALSE(dead->wait_exit().ok());
    ASSERT_TRUE(consumer_asleep(view)) << "a consumer killed asleep leaves its bit";

    auto reader = CheckedRing::reader(n, {}, doorbell_only());
    EXPECT_FALSE(consumer_asleep(view))
        << "the new consumer did not clear its dead predecessor's registration";

    // Publish only once the new consumer is asleep (its own registration), so the wake-up,
    // not a lucky poll, ends its wait.
    std::thread later([&] {
        const auto until = Clock::now() + 5s;
        while (!consumer_asleep(view) && Clock::now() < until) {
            std::this_thread::yield();
        }
        std::this_thread::sleep_for(50ms);  // into its futex wait
        (void)writer.try_write(make_checked(0));
    });
    Checked out{};
    const auto t0 = Clock::now();
    const ReadStatus s = reader.read(out, 20s);
    const auto took = Clock::now() - t0;
    later.join();
    EXPECT_EQ(s, ReadStatus::ok);
    EXPECT_EQ(out.seq, 0u);
    EXPECT_LT(took, 3s) << "the writer's publish did not wake the new consumer";
    EXPECT_FALSE(consumer_asleep(view)) << "the woken consumer left its bit";
}

// --- A2: a ring writer killed asleep for room leaves writer_waiting set; the consumer's first
// advance wakes (someone is registered) and reaps it, and later advances make no wake call.
TEST_F(Adversary, A2RingWriterKilledAsleepForRoomIsReapedByTheConsumer) {
    const std::string n = name();
    auto w = peer({"ring-block", n, "5"}, "wait.before_sleep:1:stop");
    ASSERT_EQ(w->expect_line("ready"), "ready");
    shmrec::WaitOptions wait;
    wait.liveness_interval = 20ms;  // also the consumer's reap interval
    auto reader = CheckedRing::reader(n, {}, wait);
    const shmrec::detail::RingView<Checked> view(reader.region());
    w->send("go");
    ASSERT_TRUE(w->wait_stopped()) << "the fifth write did not wait for room";
    ASSERT_TRUE(writer_asleep(view)) << "registered before its sleep";
    w->signal(SIGKILL);
    EXPECT_FALSE(w->wait_exit().ok());
    ASSERT_TRUE(writer_asleep(view)) << "a writer killed asleep leaves its bit";
    ASSERT_FALSE(reader.writer_alive());

    Checked out{};
    ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
    EXPECT_EQ(out.seq, 0u);
    EXPECT_FALSE(writer_asleep(view)) << "the dead writer was not reaped";
    const int before = g_futex_wakes.load();
    for (std::uint64_t i = 1; i < 4; ++i) {
        ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
        EXPECT_EQ(out.seq, i);
    }
#if defined(__linux__)  // Windows: no system call counting
    EXPECT_EQ(g_futex_wakes.load() - before, 0) << "a wake system call per advance";
#else
    (void)before;
#endif
    EXPECT_EQ(reader.try_read(out), ReadStatus::writer_gone)
        << "the dead writer's fifth record was never committed";

    // A replacing writer attaches (the consumer's reap holds no lock any more) and is read.
    auto next = CheckedRing::writer(n, 4, shmrec::OpenMode::open_only);
    ASSERT_EQ(next.try_write(make_checked(4)), WriteStatus::ok);
    ASSERT_EQ(reader.read(out, 5s), ReadStatus::ok);
    EXPECT_EQ(out.seq, 4u);
}

// --- A3: a lying cell writer stores a `latest` whose slot claims a later record for ever
// (huge values wrap 2 * latest). The reader reports corrupt at once, in try_read and read,
// instead of spinning on "contended" until its deadline (for ever with nanoseconds::max()).
// A latest ahead of its slot (version behind the stamp) is corrupt too.
TEST_F(Adversary, A3CellForgedLatestIsCorruptNotAnEndlessSpin) {
    const std::string n = name();
    auto writer = CheckedCell::writer(n);
    auto reader = CheckedCell::reader(n);
    for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
    Checked out{};
    ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
    const shmrec::detail::CellView<Checked> view(writer.region());
    // Slot 0 holds stamp 4 (version 8), slot 1 stamp 3 (version 6).
    const std::uint64_t forged[] = {
        std::numeric_limits<std::uint64_t>::max(),  // slot 1, 2n wraps to -2: "newer"
        std::uint64_t{1} << 63,                     // slot 0, 2n wraps to 0: "newer"
        2,                                          // slot 0 holds 4 > 2: "newer", stale latest
        7,                                          // slot 1 holds 3 < 7: "not yet"
    };
    for (const std::uint64_t latest : forged) {
        SCOPED_TRACE("latest=" + std::to_string(latest));
        view.control->latest.store(latest);
        EXPECT_EQ(reader.try_read(out), ReadStatus::corrupt);
        const auto t0 = Clock::now();
        EXPECT_EQ(reader.read(out, 2s), ReadStatus::corrupt);
        EXPECT_LT(Clock::now() - t0, 1s) << "read() spun on a record that can never complete";
    }
    // The honest writer goes on: its next record is read as usual.
    view.control->latest.store(4);
    ASSERT_EQ(writer.try_write(make_checked(5)), WriteStatus::ok);
    ASSERT_EQ(reader.read(out, 1s), ReadStatus::ok);
    EXPECT_EQ(out.seq, 5u);
}

}  // namespace
