// One test per defect found in the review of the runtime (issue 8), named D<nn> after its
// number there; each failed before its fix. Interleavings are forced, not hoped for: an
// in-process test writes the shared state a dying or racing peer leaves, and a process test
// stops shmrec_regression_peer at a fault point (SHMREC_FAULT="<point>:<n>:stop"), acts, and
// resumes it.
//
// The binary interposes syscall() to count the futex operations the runtime makes: the
// publish path must make none while nobody waits, including after a waiter died asleep. That
// counting is Linux-only (futexes, syscall interposition): on Windows those checks are left out
// or skipped, the rest runs.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif
#if !defined(_WIN32)
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "big_record.shmrec.hpp"
#include "checked_record.hpp"
#include "regression_support.hpp"
#if defined(__linux__)
#include "futex_spy.hpp"
#endif
#include "child_process.hpp"
#include "printers.hpp"
#include "shmrec/detail/broadcast_layout.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/shmrec.hpp"
#include "test_names.hpp"
#include "test_records.shmrec.hpp"
#include "timing.hpp"

namespace {
std::atomic<int> g_futex_wakes{0};
std::atomic<int> g_futex_waits{0};
}  // namespace

#if defined(__linux__)
void on_futex(long op, const timespec* /*timeout*/) {
    const long cmd = op & FUTEX_CMD_MASK;
    if (cmd == FUTEX_WAKE) g_futex_wakes.fetch_add(1);
    if (cmd == FUTEX_WAIT) g_futex_waits.fetch_add(1);
}
#endif

namespace {

using namespace std::chrono_literals;
using shmrec_regress_test::peer;
using shmrec::ReadStatus;
using shmrec::StartAt;
using shmrec::WriteStatus;
using shmrec_test::Checked;
using shmrec_test::ChildProcess;
using shmrec_test::make_checked;
using CheckedCell = shmrec::Cell<Checked>;
using CheckedRing = shmrec::Ring<Checked>;
using CheckedBroadcast = shmrec::Broadcast<Checked>;

class Review : public shmrec_test::RegionFixture {};

// "key=value" out of a peer's line, "" when absent.
std::string field(const std::string& line, const std::string& key) {
    const auto at = line.find(key + "=");
    if (at == std::string::npos) return {};
    const auto from = at + key.size() + 1;
    return line.substr(from, line.find(' ', from) - from);
}

// --- D02: a replacing broadcast writer skips every complete slot past tail ---------------
TEST_F(Review, D02BroadcastTakeoverKeepsTheNumbersOfUnannouncedCompleteSlots) {
    const std::string n = name();
    auto reader = [&] {
        auto first = CheckedBroadcast::writer(n, 8);
        auto r = CheckedBroadcast::reader(n, StartAt::oldest);
        for (std::uint64_t i = 0; i < 4; ++i) EXPECT_EQ(first.try_write(make_checked(i)), WriteStatus::ok);
        // The writer is killed mid-batch: positions 4 and 5 are complete, tail still says 4.
        shmrec::detail::BroadcastView<Checked> view(first.region());
        for (std::uint64_t p = 4; p < 6; ++p) {
            shmrec::detail::Seqlock<Checked>::store(view.version(p), view.payload(p), p + 1,
                                                     make_checked(p),
                                                     shmrec::detail::broadcast_fault_points);
        }
        return r;
    }();
    Checked out{};
    for (std::uint64_t i = 0; i < 6; ++i) {
        ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
        EXPECT_EQ(out.seq, i) << "readers read complete slots whether announced or not";
    }
    auto second = CheckedBroadcast::writer(n, 0, shmrec::OpenMode::open_only);
    EXPECT_EQ(second.written(), 6u) << "the replacing writer must not renumber positions 4, 5";
    ASSERT_EQ(second.try_write(make_checked(6)), WriteStatus::ok);
    ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
    EXPECT_EQ(out.seq, 6u);
    EXPECT_EQ(reader.lost(), 0u);
    // A newcomer sees one record per position.
    auto late = CheckedBroadcast::reader(n, StartAt::oldest);
    for (std::uint64_t i = 0; i < 7; ++i) {
        ASSERT_EQ(late.try_read(out), ReadStatus::ok);
        EXPECT_EQ(out.seq, i);
    }
}

// The same when the writer dies inside a batch longer than the capacity (tail is published
// once per lap inside a batch, so the takeover scan, at most a lap long, still reaches the
// last complete slot).
TEST_F(Review, D02BroadcastTakeoverAfterADeathInsideABatchLongerThanTheCapacity) {
    const std::string n = name();
    // Killed as it claims record 10 of a batch of 16 in a ring of 4: 0..9 are complete.
    auto w = peer({"broadcast-batch", n, "16"}, "broadcast.after_claim:11:kill");
    ASSERT_EQ(w->expect_line("ready"), "ready");
    shmrec_test::keep_alive(n);  // Windows: the object outlives the killed writer
    w->send("go");
    EXPECT_EQ(w->wait_exit().signal, SIGKILL);
    auto second = CheckedBroadcast::writer(n, 0, shmrec::OpenMode::open_only);
    EXPECT_EQ(second.written(), 10u) << "positions 0..9 are taken; the next record is 10";
    ASSERT_EQ(second.try_write(make_checked(10)), WriteStatus::ok);
    auto reader = CheckedBroadcast::reader(n, StartAt::oldest);
    Checked out{};
    std::uint64_t expect = reader.start_position();
    while (reader.try_read(out) == ReadStatus::ok) EXPECT_EQ(out.seq, expect++);
    EXPECT_EQ(expect, 11u);
}

// --- D03: a reader lapped inside a batch longer than the capacity is not `corrupt` --------
TEST_F(Review, D03ReaderLappedInsideALongBatchSkipsToIntactRecords) {
    const std::string n = name();
    auto writer = CheckedBroadcast::writer(n, 4);
    auto reader = CheckedBroadcast::reader(n, StartAt::oldest);
    // The writer is in the middle of a batch of 10: every slot rewritten, tail not yet
    // published (it is published once, at the end of the batch).
    shmrec::detail::BroadcastView<Checked> view(writer.region());
    for (std::uint64_t p = 0; p < 10; ++p) {
        shmrec::detail::Seqlock<Checked>::store(view.version(p), view.payload(p), p + 1,
                                                 make_checked(p),
                                                 shmrec::detail::broadcast_fault_points);
    }
    std::vector<std::uint64_t> seen;
    Checked out{};
    ReadStatus s;
    while ((s = reader.try_read(out)) == ReadStatus::ok) {
        EXPECT_TRUE(shmrec_test::intact(out));
        seen.push_back(out.seq);
    }
    EXPECT_EQ(s, ReadStatus::empty);
    EXPECT_EQ(seen, (std::vector<std::uint64_t>{6, 7, 8, 9}));
    EXPECT_EQ(reader.lost(), 6u);
    EXPECT_EQ(reader.received() + reader.lost(), reader.position() - reader.start_position());
}

// --- D04: a consumer that read part of a batch and sleeps is woken by the batch's end -----
TEST_F(Review, D04ConsumerAsleepInsideABatchIsWokenWhenTheBatchCompletes) {
    const std::string n = name();
    // The writer stops before committing the third record of its batch of 4.
    auto w = peer({"ring-batch", n, "4"}, "ring.before_commit:3:stop");
    ASSERT_EQ(w->expect_line("ready"), "ready");
    shmrec::WaitOptions wait;
    wait.spin_iterations = 0;
    wait.liveness_interval = 10s;
    auto reader = CheckedRing::reader(n, {}, wait);
    w->send("go");
    ASSERT_TRUE(w->wait_stopped());
    Checked out{};
    ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
    ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
    ReadStatus s = ReadStatus::empty;
    double ms = 0;
    std::thread consumer([&] {
        const auto t0 = shmrec_test::Clock::now();
        s = reader.read(out, 20s);
        ms = shmrec_test::ms_since(t0);
    });
    std::this_thread::sleep_for(200ms);  // asleep on record 2 by now
    w->signal(SIGCONT);
    consumer.join();
    EXPECT_EQ(s, ReadStatus::ok);
    EXPECT_EQ(out.seq, 2u);
    EXPECT_LT(ms, 3000.0) << "woken by the batch, not by the 10 s liveness slice";
    w->close_stdin();
    EXPECT_TRUE(w->wait_exit().ok());
}

// --- D05: close() wakes a reader that checked "not closed" just before sleeping -----------
class ReviewClose : public Review, public ::testing::WithParamInterface<const char*> {};

TEST_P(ReviewClose, D05CloseWakesAReaderStoppedBetweenItsCheckAndItsSleep) {
    const std::string mode = GetParam();
    const std::string n = name();
    std::unique_ptr<ChildProcess> r;
    auto stop_reader = [&] {
        r = peer({mode, n}, "wait.before_sleep:1:stop");
        ASSERT_EQ(r->expect_line("ready"), "ready");
        ASSERT_TRUE(r->wait_stopped()) << "the reader never reached its sleep";
    };
    if (mode == "cell-read") {
        auto writer = CheckedCell::writer(n);
        stop_reader();
        writer.close();
    } else if (mode == "broadcast-read") {
        auto writer = CheckedBroadcast::writer(n, 8);
        stop_reader();
        writer.close();
    } else {
        auto writer = CheckedRing::writer(n, 8);
        stop_reader();
        writer.close();
    }
    r->signal(SIGCONT);
    const std::string line = r->expect_line("status", 30s);
    EXPECT_EQ(field(line, "status"), "closed") << line;
    EXPECT_LT(std::stod(field(line, "ms")), 3000.0) << "woken by close, not by its 10 s slice";
    EXPECT_TRUE(r->wait_exit().ok());
}
INSTANTIATE_TEST_SUITE_P(Channels, ReviewClose,
                         ::testing::Values("cell-read", "broadcast-read", "ring-read"),
                         [](const auto& param_info) {
                             const std::string mode = param_info.param;
                             return mode.substr(0, mode.find('-'));
                         });

// --- D06: a reader killed while registered does not cost the writer a wake per publish ----
TEST_F(Review, D06ReaderKilledAsleepIsReapedAndPublishingMakesNoSystemCall) {
    const std::string n = name();
    shmrec::WaitOptions wait;
    wait.liveness_interval = 20ms;  // also the writer's reap interval
    auto writer = CheckedBroadcast::writer(n, 64, shmrec::OpenMode::create_only, {}, wait);
    auto r = peer({"broadcast-read", n}, "wait.before_sleep:1:stop");
    ASSERT_EQ(r->expect_line("ready"), "ready");
    ASSERT_TRUE(r->wait_stopped());
    ASSERT_TRUE(shmrec_test::reader_waiting(writer.region())) << "registered before its sleep";
    r->signal(SIGKILL);
    EXPECT_FALSE(r->wait_exit().ok());
    // The first publish still wakes (someone is registered) and reaps the dead registration.
    ASSERT_EQ(writer.try_write(make_checked(0)), WriteStatus::ok);
    EXPECT_FALSE(shmrec_test::reader_waiting(writer.region())) << "the dead reader was reaped";
#if defined(__linux__)  // Windows: no system call counting (the reap above still runs)
    const int before = g_futex_wakes.load();
    for (std::uint64_t i = 1; i <= 1000; ++i) ASSERT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
    EXPECT_EQ(g_futex_wakes.load() - before, 0) << "a wake system call per publish";
#endif
}

// --- D07: a Loan cannot be mixed with copying writes, and commits what was filled ---------
TEST_F(Review, D07LoanRefusesInterleavedWritesAndCommitsTheLoanedSlot) {
    const std::string n = name();
    auto writer = CheckedRing::writer(n, 4);
    auto reader = CheckedRing::reader(n);
    {
        auto loan = writer.try_loan();
        ASSERT_TRUE(loan);
        *loan = make_checked(7);
        EXPECT_EQ(writer.try_write(make_checked(99)), WriteStatus::loan_pending);
        const std::vector<Checked> batch(4, make_checked(99));
        EXPECT_EQ(writer.try_write(std::span<const Checked>(batch)).status, WriteStatus::loan_pending);
        EXPECT_EQ(writer.try_loan().status(), WriteStatus::loan_pending);
        EXPECT_EQ(loan.commit(), WriteStatus::ok);
        EXPECT_EQ(loan.commit(), WriteStatus::moved_from) << "a second commit publishes nothing";
    }
    {
        auto dropped = writer.try_loan();
        ASSERT_TRUE(dropped);
        *dropped = make_checked(98);
    }  // abandoned: nothing published
    Checked out{};
    ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
    EXPECT_EQ(out.seq, 7u);
    EXPECT_EQ(reader.try_read(out), ReadStatus::empty) << "the abandoned loan published nothing";
    // Fill the ring, then a loan is refused and nothing is overwritten.
    for (std::uint64_t i = 10; i < 14; ++i) ASSERT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
    EXPECT_EQ(writer.try_loan().status(), WriteStatus::full);
    for (std::uint64_t i = 10; i < 14; ++i) {
        ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
        EXPECT_EQ(out.seq, i);
    }
    EXPECT_EQ(reader.try_read(out), ReadStatus::empty);
}

// --- D08: a Sample consumes exactly the record it showed --------------------------------
TEST_F(Review, D08SampleConsumesOnlyTheRecordItShowed) {
    const std::string n = name();
    auto writer = CheckedRing::writer(n, 4);
    auto reader = CheckedRing::reader(n);
    {
        auto none = reader.try_peek();
        EXPECT_FALSE(none);
        EXPECT_EQ(none.status(), ReadStatus::empty);
    }  // an empty Sample consumes nothing
    ASSERT_EQ(writer.try_write(make_checked(1)), WriteStatus::ok);
    ASSERT_EQ(writer.try_write(make_checked(2)), WriteStatus::ok);
    Checked out{};
    {
        auto sample = reader.try_peek();
        ASSERT_TRUE(sample);
        EXPECT_EQ(sample->seq, 1u);
        EXPECT_EQ(reader.try_read(out), ReadStatus::sample_pending);
        EXPECT_EQ(reader.try_peek().status(), ReadStatus::sample_pending);
        EXPECT_EQ(reader.consumed(), 0u) << "not consumed while shown";
    }
    EXPECT_EQ(reader.consumed(), 1u);
    ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
    EXPECT_EQ(out.seq, 2u);
}

// --- D09: a forked child's accessors return neutral values, never touch the mapping -------
TEST_F(Review, D09ForkedChildAccessorsDoNotTouchTheMapping) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: fork(); Windows has no fork";
#else
    const std::string c = name("c"), r = name("r"), b = name("b");
    auto cell_writer = CheckedCell::writer(c);
    auto cell_reader = CheckedCell::reader(c);
    auto ring_writer = CheckedRing::writer(r, 4);
    auto ring_reader = CheckedRing::reader(r);
    auto bw = CheckedBroadcast::writer(b, 4);
    auto br = CheckedBroadcast::reader(b);
    ASSERT_EQ(cell_writer.try_write(make_checked(1)), WriteStatus::ok);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // Any touch of a blanked mapping is a SIGSEGV; a wrong answer is exit code 1.
        bool ok = !cell_reader.has_update() && !cell_reader.closed() && !cell_reader.writer_alive() &&
                  cell_reader.region().schema().empty() && cell_writer.written() == 0 &&
                  ring_writer.written() == 0 && ring_writer.capacity() == 0 &&
                  !ring_writer.consumer_alive() && ring_reader.consumed() == 0 &&
                  !ring_reader.closed() && bw.written() == 0 && br.capacity() == 0 &&
                  !br.closed() && cell_writer.readers() == 0;
        Checked out{};
        ok = ok && cell_reader.try_read(out) == ReadStatus::handle_forked &&
             cell_writer.try_write(out) == WriteStatus::handle_forked &&
             ring_reader.try_peek().status() == ReadStatus::handle_forked &&
             ring_writer.try_loan().status() == WriteStatus::handle_forked &&
             br.read(out, 1ms) == ReadStatus::handle_forked;
        std::_Exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0) << "an accessor gave a non-neutral answer in the child";
#endif
}

// --- D10: a moved-from handle refuses every call ----------------------------------------
TEST_F(Review, D10MovedFromHandlesRefuseEveryCall) {
    const std::string c = name("c"), r = name("r"), b = name("b");
    Checked out = make_checked(1);
    {
        auto first = CheckedCell::writer(c);
        auto second = std::move(first);
        EXPECT_EQ(first.try_write(out), WriteStatus::moved_from);  // NOLINT(bugprone-use-after-move)
        EXPECT_EQ(first.written(), 0u);
        EXPECT_EQ(second.try_write(out), WriteStatus::ok);
        auto reader = CheckedCell::reader(c);
        auto other = std::move(reader);
        EXPECT_EQ(reader.try_read(out), ReadStatus::moved_from);  // NOLINT(bugprone-use-after-move)
        EXPECT_FALSE(reader.has_update());
        EXPECT_EQ(other.try_read(out), ReadStatus::ok);
        // Move-assignment closes the target's own region first.
        auto third = CheckedCell::writer(name("c2"));
        third = std::move(second);
        EXPECT_EQ(second.try_write(out), WriteStatus::moved_from);  // NOLINT(bugprone-use-after-move)
        EXPECT_EQ(third.try_write(out), WriteStatus::ok);
    }
    {
        auto first = CheckedRing::writer(r, 4);
        auto reader = CheckedRing::reader(r);
        auto second = std::move(first);
        EXPECT_EQ(first.try_write(out), WriteStatus::moved_from);  // NOLINT(bugprone-use-after-move)
        EXPECT_EQ(first.try_loan().status(), WriteStatus::moved_from);
        EXPECT_EQ(second.try_write(out), WriteStatus::ok);
        auto moved = std::move(reader);
        EXPECT_EQ(reader.try_read(out), ReadStatus::moved_from);  // NOLINT(bugprone-use-after-move)
        EXPECT_EQ(moved.try_read(out), ReadStatus::ok);
        EXPECT_EQ(moved.consumed(), 1u);
        EXPECT_EQ(second.written(), 1u) << "only the new owner wrote";
    }
    {
        auto first = CheckedBroadcast::writer(b, 4);
        auto second = std::move(first);
        EXPECT_EQ(first.try_write(out), WriteStatus::moved_from);  // NOLINT(bugprone-use-after-move)
        auto reader = CheckedBroadcast::reader(b);
        auto moved = std::move(reader);
        EXPECT_EQ(reader.read(out, 1ms), ReadStatus::moved_from);  // NOLINT(bugprone-use-after-move)
        EXPECT_EQ(second.try_write(out), WriteStatus::ok);
        EXPECT_EQ(moved.try_read(out), ReadStatus::ok);
    }
}

// --- D11: nanoseconds::max() waits for ever, not "timeout at once" ------------------------
TEST_F(Review, D11MaximumTimeoutMeansWaitForever) {
    constexpr auto forever = std::chrono::nanoseconds::max();
    const std::string c = name("c"), r = name("r");
    auto cell_writer = CheckedCell::writer(c);
    auto cell_reader = CheckedCell::reader(c);
    auto ring_writer = CheckedRing::writer(r, 1);
    auto ring_reader = CheckedRing::reader(r);
    ASSERT_EQ(ring_writer.try_write(make_checked(0)), WriteStatus::ok);  // now full
    std::thread later([&] {
        std::this_thread::sleep_for(100ms);
        EXPECT_EQ(cell_writer.try_write(make_checked(5)), WriteStatus::ok);
        Checked first{};
        EXPECT_EQ(ring_reader.try_read(first), ReadStatus::ok);
    });
    Checked out{};
    EXPECT_EQ(cell_reader.read(out, forever), ReadStatus::ok);
    EXPECT_EQ(out.seq, 5u);
    EXPECT_EQ(ring_writer.write(make_checked(1), forever), WriteStatus::ok);
    later.join();
    EXPECT_EQ(ring_reader.read(out, forever), ReadStatus::ok);
    EXPECT_EQ(out.seq, 1u);
    EXPECT_EQ(ring_writer.drain(forever), WriteStatus::ok);
}

// --- D12: a hostile head never buys the writer more room than the ring has ----------------
TEST_F(Review, D12HostileHeadAheadOfTheTailIsNeverCached) {
    const std::string n = name();
    auto writer = CheckedRing::writer(n, 4);
    auto reader = CheckedRing::reader(n);
    for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
    shmrec::detail::RingView<Checked> view(writer.region());
    view.control->head.store(writer.written() + 10);  // claims to have read 10 unwritten records
    EXPECT_EQ(writer.try_write(make_checked(4)), WriteStatus::full);
    const std::vector<Checked> batch(8, make_checked(5));
    EXPECT_EQ(writer.try_write(std::span<const Checked>(batch)).count, 0u)
        << "the poisoned head promised room over unread records";
    EXPECT_EQ(writer.written(), 4u);
}

// --- D13: a record larger than the thread's stack is copied without a stack buffer -------
TEST_F(Review, D13RecordsLargerThanTheStackAreCopied) {
    using Big = shmrec_regress::Big;
    static_assert(sizeof(Big) > 256 * 1024);
    const std::string c = name("c"), b = name("b");
    auto cell_writer = shmrec::Cell<Big>::writer(c);
    auto cell_reader = shmrec::Cell<Big>::reader(c);
    auto bw = shmrec::Broadcast<Big>::writer(b, 2);
    auto br = shmrec::Broadcast<Big>::reader(b);
    auto in = std::make_unique<Big>();
    auto out = std::make_unique<Big>();
    auto* bytes = reinterpret_cast<unsigned char*>(in.get());
    for (std::size_t i = 0; i < sizeof(Big); ++i) bytes[i] = static_cast<unsigned char>(i * 7);
    bool ok = false;
    // A 128 KiB stack: a whole-record buffer (256 KiB) on it would overflow and crash.
    auto body = [&] {
        ok = cell_writer.try_write(*in) == WriteStatus::ok &&
             cell_reader.try_read(*out) == ReadStatus::ok &&
             std::memcmp(in.get(), out.get(), sizeof(Big)) == 0 &&
             bw.try_write(*in) == WriteStatus::ok && br.try_read(*out) == ReadStatus::ok &&
             std::memcmp(in.get(), out.get(), sizeof(Big)) == 0;
    };
    pthread_attr_t attr;
    ASSERT_EQ(::pthread_attr_init(&attr), 0);
    ASSERT_EQ(::pthread_attr_setstacksize(&attr, 128 * 1024), 0);
    pthread_t thread;
    auto trampoline = [](void* f) -> void* {
        (*static_cast<decltype(body)*>(f))();
        return nullptr;
    };
    ASSERT_EQ(::pthread_create(&thread, &attr, trampoline, &body), 0);
    ASSERT_EQ(::pthread_join(thread, nullptr), 0);
    ::pthread_attr_destroy(&attr);
    EXPECT_TRUE(ok);
}

// --- The publish path makes no system call while nobody waits ----------------------------
TEST_F(Review, PublishingMakesNoSystemCallWhileNobodyWaits) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: counts the futex system calls (syscall interposition)";
#else
    const std::string c = name("c"), r = name("r"), b = name("b");
    auto cell_writer = CheckedCell::writer(c);
    auto cell_reader = CheckedCell::reader(c);
    auto ring_writer = CheckedRing::writer(r, 2048);
    auto ring_reader = CheckedRing::reader(r);
    auto bw = CheckedBroadcast::writer(b, 1024);
    auto br = CheckedBroadcast::reader(b);
    Checked out{};
    const int before = g_futex_wakes.load() + g_futex_waits.load();
    for (std::uint64_t i = 0; i < 1000; ++i) {
        ASSERT_EQ(cell_writer.try_write(make_checked(i)), WriteStatus::ok);
        ASSERT_EQ(ring_writer.try_write(make_checked(i)), WriteStatus::ok);
        ASSERT_EQ(bw.try_write(make_checked(i)), WriteStatus::ok);
        ASSERT_EQ(ring_reader.try_read(out), ReadStatus::ok);
        ASSERT_EQ(br.try_read(out), ReadStatus::ok);
    }
    EXPECT_EQ(g_futex_wakes.load() + g_futex_waits.load() - before, 0);
#endif
}

// --- Who is listening ------------------------------------------------------------------
TEST_F(Review, WritersCountAttachedReadersAndWaitForThem) {
    const std::string n = name();
    auto writer = CheckedBroadcast::writer(n, 8);
    EXPECT_EQ(writer.readers(), 0u);
    EXPECT_EQ(writer.wait_for_readers(1, 20ms), WriteStatus::timeout);
    std::vector<CheckedBroadcast::Reader> readers;
    std::thread attach([&] {
        std::this_thread::sleep_for(50ms);
        for (int i = 0; i < 3; ++i) readers.push_back(CheckedBroadcast::reader(n));
    });
    EXPECT_EQ(writer.wait_for_readers(3, 5s), WriteStatus::ok);
    attach.join();
    EXPECT_EQ(writer.readers(), 3u);
    readers.pop_back();
    EXPECT_EQ(writer.readers(), 2u) << "a reader's slot goes with its handle";
#if defined(_WIN32)
    {
        // Another process (no fork: the peer): a reader that dies is not counted.
        auto r = peer({"broadcast-read", n});
        ASSERT_EQ(r->expect_line("ready"), "ready");
        EXPECT_EQ(writer.readers(), 3u);
        r->signal(SIGKILL);
        EXPECT_FALSE(r->wait_exit().ok());
    }
#else
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // Another process: a reader that dies is not counted.
        auto r = CheckedBroadcast::reader(n);
        ::raise(SIGKILL);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
#endif
    EXPECT_EQ(writer.readers(), 2u);
}

// --- Lifecycle: a reader of a closed channel waits for its replacement writer ------------
TEST_F(Review, ReaderOfAClosedChannelWaitsForAReplacementWriter) {
    const std::string c = name("c"), r = name("r");
    auto cell_reader = [&] {
        auto w = CheckedCell::writer(c);
        return CheckedCell::reader(c);
    }();  // its writer closed
    auto ring_reader = [&] {
        auto w = CheckedRing::writer(r, 4);
        return CheckedRing::reader(r);
    }();
    Checked out{};
    EXPECT_EQ(cell_reader.read(out, 1s), ReadStatus::closed);
    EXPECT_EQ(ring_reader.read(out, 1s), ReadStatus::closed);
    EXPECT_EQ(cell_reader.wait_for_writer(20ms), ReadStatus::timeout);
    std::thread replacement([&] {
        std::this_thread::sleep_for(100ms);
        auto cw = CheckedCell::writer(c, shmrec::OpenMode::open_only);
        auto rw = CheckedRing::writer(r, 0, shmrec::OpenMode::open_only);
        EXPECT_EQ(cw.try_write(make_checked(1)), WriteStatus::ok);
        EXPECT_EQ(rw.try_write(make_checked(2)), WriteStatus::ok);
        std::this_thread::sleep_for(300ms);  // keep them alive while the readers look
    });
    const auto t0 = shmrec_test::Clock::now();
    EXPECT_EQ(cell_reader.wait_for_writer(5s), ReadStatus::ok);
    EXPECT_EQ(ring_reader.wait_for_writer(5s), ReadStatus::ok);
    EXPECT_LT(shmrec_test::ms_since(t0), 2000.0);
    EXPECT_EQ(cell_reader.read(out, 5s), ReadStatus::ok);
    EXPECT_EQ(out.seq, 1u);
    EXPECT_EQ(ring_reader.read(out, 5s), ReadStatus::ok);
    EXPECT_EQ(out.seq, 2u);
    replacement.join();
}

}  // namespace
