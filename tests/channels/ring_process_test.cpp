// Ring<T> between real processes: this test is one end, shmrec_channel_peer (posix_spawn) the
// other. Delivery under load, and what each side sees when the other is killed or stopped
// (RELIABILITY L2, L3, B1, B2, B3).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "channel_test_support.hpp"
#include "shmrec/ring.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using chantest::Clock;
using chantest::ExitStatus;
using chantest::Peer;
using chantest::StreamCheck;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec_test::Checked;
using CheckedRing = shmrec::Ring<Checked>;

constexpr std::uint64_t scale_down = shmrec_test::under_sanitizer ? 10 : 1;

std::chrono::microseconds random_phase() {
    static std::mt19937 gen(std::random_device{}());
    return std::chrono::microseconds(std::uniform_int_distribution<int>(0, 49'999)(gen));
}

class RingProcesses : public shmrec_test::RegionFixture {};

// The peer creates the ring and writes `count` records; this process consumes them (batches
// of 256 when `batch`), checking every record.
void stream_from_peer(const std::string& region, std::uint64_t capacity, std::uint64_t count,
                      bool batch) {
    Peer peer({"ring-write", region, std::to_string(capacity), std::to_string(count),
               batch ? "batch" : "single", "close", "0", "create"});
    ASSERT_FALSE(peer.expect("ready").empty()) << "peer did not start";
    auto reader = CheckedRing::reader(region);
    StreamCheck check;
    double max_wait_ms = 0;
    std::uint64_t slow_reads = 0;  // single reads that waited more than 20 ms
    const auto start = Clock::now();
    peer.send("go");
    ReadStatus end;
    if (batch) {
        std::vector<Checked> buf(256);
        for (;;) {
            const auto r = reader.read(std::span<Checked>(buf), 10s);
            for (std::size_t i = 0; i < r.count; ++i) check.see(buf[i]);
            if (r.status != ReadStatus::ok) {
                end = r.status;
                break;
            }
        }
    } else {
        Checked r;
        for (;;) {
            const auto t0 = Clock::now();
            end = reader.read(r, 10s);
            const double waited = chantest::ms_since(t0);
            max_wait_ms = std::max(max_wait_ms, waited);
            if (waited > 20.0) ++slow_reads;
            if (end != ReadStatus::ok) break;
            check.see(r);
        }
    }
    const double ms = chantest::ms_since(start);
    const auto written = peer.expect("written");
    EXPECT_EQ(peer.wait_exit(chantest::peer_exit_timeout), ExitStatus::code_of(0))
        << (written.count("") ? written.at("") : "");

    std::printf("  capacity %llu (%s): %llu records in %.0f ms (%.2f M/s); reads > 20 ms: %llu, longest %.1f ms\n",
                static_cast<unsigned long long>(capacity), batch ? "batch" : "single",
                static_cast<unsigned long long>(check.count), ms, static_cast<double>(check.count) / ms / 1000.0,
                static_cast<unsigned long long>(slow_reads), max_wait_ms);
    ::testing::Test::RecordProperty("records", std::to_string(check.count));
    ::testing::Test::RecordProperty("ms", std::to_string(static_cast<long long>(ms)));
    EXPECT_EQ(end, ReadStatus::closed);
    EXPECT_EQ(chantest::num(written, "n"), count);
    EXPECT_EQ(check.count, count);
    EXPECT_EQ(check.bad, 0u) << "torn or garbage record, first at seq " << check.first_bad_seq;
    EXPECT_EQ(check.out_of_order, 0u) << "lost/duplicated/reordered, first at seq " << check.first_bad_seq;
    EXPECT_EQ(reader.consumed(), count);
}

TEST_F(RingProcesses, Capacity1024Batch10MillionRecordsArriveIntact) {
    stream_from_peer(name("c1024"), 1024, 10'000'000 / scale_down, true);
}

// Capacity 1 and 2 hand over every record individually (a wake-up per record when a side
// sleeps): 1 million records each keeps the executable's run time bounded.
TEST_F(RingProcesses, Capacity2Single1MillionRecordsArriveIntact) {
    stream_from_peer(name("c2"), 2, 1'000'000 / scale_down, false);
}

TEST_F(RingProcesses, Capacity1Single1MillionRecordsArriveIntact) {
    stream_from_peer(name("c1"), 1, 1'000'000 / scale_down, false);
}

// RELIABILITY B2 + L2: a reader blocked in read(10 s) learns of the writer's SIGKILL within
// 500 ms (liveness_interval 50 ms), having first received every record the writer committed.
TEST_F(RingProcesses, BlockedReaderGetsWriterGoneWithin500msOfWriterKill) {
    const std::string region = name("wkill");
    const std::uint64_t k = 300;
    Peer peer({"ring-write", region, "1024", std::to_string(k), "single", "pause", "0", "create"});
    ASSERT_FALSE(peer.expect("ready").empty());
    auto reader = CheckedRing::reader(region);
    peer.send("go");
    ASSERT_EQ(chantest::num(peer.expect("written"), "n"), k);

    std::atomic<std::uint64_t> received{0};
    std::atomic<Clock::rep> ended_at{0};
    ReadStatus end = ReadStatus::ok;
    StreamCheck check;
    std::thread consumer([&] {
        Checked r;
        while ((end = reader.read(r, 10s)) == ReadStatus::ok) {
            check.see(r);
            received.fetch_add(1);
        }
        ended_at.store(Clock::now().time_since_epoch().count());
    });
    const auto wait_until = Clock::now() + 10s;
    while (received.load() < k && Clock::now() < wait_until) std::this_thread::sleep_for(1ms);
    // The consumer is now asleep in read(). A random extra delay so the kill does not land
    // at a fixed phase of its 50 ms liveness checks.
    std::this_thread::sleep_for(200ms + random_phase());
    ASSERT_EQ(ended_at.load(), 0) << "read() returned before the kill: " << to_string(end);
    const auto killed_at = Clock::now();
    peer.signal(SIGKILL);
    consumer.join();
    peer.wait_exit(chantest::peer_exit_timeout);
    const double latency_ms =
        std::chrono::duration<double, std::milli>(Clock::duration(ended_at.load()) -
                                                  killed_at.time_since_epoch()).count();
    std::printf("  writer_gone %.1f ms after SIGKILL\n", latency_ms);
    RecordProperty("writer_gone_latency_ms", std::to_string(latency_ms));
    EXPECT_EQ(end, ReadStatus::writer_gone);
    EXPECT_LT(latency_ms, 500.0);
    EXPECT_EQ(check.count, k);
    EXPECT_EQ(check.bad + check.out_of_order, 0u);
}

// RELIABILITY L2: records committed before the kill are all delivered, then writer_gone.
TEST_F(RingProcesses, RecordsCommittedBeforeWriterKillAreDeliveredFirst) {
    const std::string region = name("wkill2");
    const std::uint64_t k = 700;
    Peer peer({"ring-write", region, "1024", std::to_string(k), "batch", "pause", "0", "create"});
    ASSERT_FALSE(peer.expect("ready").empty());
    auto reader = CheckedRing::reader(region);
    peer.send("go");
    ASSERT_EQ(chantest::num(peer.expect("written"), "n"), k);
    peer.signal(SIGKILL);
    peer.wait_exit(chantest::peer_exit_timeout);
    EXPECT_FALSE(reader.writer_alive());

    StreamCheck check;
    Checked r;
    ReadStatus end;
    while ((end = reader.read(r, 10s)) == ReadStatus::ok) check.see(r);
    EXPECT_EQ(end, ReadStatus::writer_gone);
    EXPECT_EQ(check.count, k);
    EXPECT_EQ(check.bad + check.out_of_order, 0u);
    // try_read() looks at the liveness lock at most once per liveness_interval (one clock per
    // handle, shared with read()): right away it may say empty, never ok; one interval later,
    // writer_gone.
    const auto again = reader.try_read(r);
    EXPECT_TRUE(again == ReadStatus::empty || again == ReadStatus::writer_gone) << to_string(again);
    std::this_thread::sleep_for(shmrec::WaitOptions{}.liveness_interval + 10ms);
    EXPECT_EQ(reader.try_read(r), ReadStatus::writer_gone);
}

// RELIABILITY L2, second half: killed mid-stream (blocked on a full ring), the writer is
// replaced by a new process taking the writer role with open_only; it continues after the last
// committed record and the consumer, which never re-attached, sees one gap-free stream.
TEST_F(RingProcesses, ReplacementWriterContinuesTheStreamAfterAKill) {
    const std::string region = name("wreplace");
    Peer first({"ring-write", region, "64", "1000000", "single", "close", "0", "create"});
    ASSERT_FALSE(first.expect("ready").empty());
    auto reader = CheckedRing::reader(region);
    first.send("go");
    StreamCheck check;
    Checked r;
    for (int i = 0; i < 5000; ++i) {
        ASSERT_EQ(reader.read(r, 10s), ReadStatus::ok);
        check.see(r);
    }
    first.signal(SIGKILL);  // somewhere in its stream; the ring is likely full
    first.wait_exit(chantest::peer_exit_timeout);
    ReadStatus end;
    while ((end = reader.read(r, 10s)) == ReadStatus::ok) check.see(r);
    EXPECT_EQ(end, ReadStatus::writer_gone);
    const std::uint64_t before = check.count;

    Peer second({"ring-write", region, "64", "1000", "single", "close", "0", "open"});
    const auto ready = second.expect("ready");
    ASSERT_FALSE(ready.empty());
    EXPECT_EQ(chantest::num(ready, "first"), before) << "replacement does not start after the last commit";
    second.send("go");
    while ((end = reader.read(r, 10s)) == ReadStatus::ok) check.see(r);
    EXPECT_EQ(second.wait_exit(chantest::peer_exit_timeout), ExitStatus::code_of(0));
    std::printf("  %llu records before the kill, %llu in all\n",
                static_cast<unsigned long long>(before), static_cast<unsigned long long>(check.count));
    EXPECT_EQ(end, ReadStatus::closed);
    EXPECT_EQ(check.count, before + 1000);
    EXPECT_EQ(check.bad, 0u);
    EXPECT_EQ(check.out_of_order, 0u) << "first at seq " << check.first_bad_seq;
}

// A writer blocked in write(10 s) on a full ring learns of the consumer's SIGKILL within
// 500 ms.
TEST_F(RingProcesses, BlockedWriterGetsReaderGoneWithin500msOfReaderKill) {
    const std::string region = name("rkill");
    auto writer = CheckedRing::writer(region, 16);
    Peer peer({"ring-hold", region, "4"});
    ASSERT_FALSE(peer.expect("attached").empty());
    for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(writer.write(chantest::make_checked(i), 5s), WriteStatus::ok);
    const auto ready = peer.expect("ready");
    ASSERT_EQ(chantest::num(ready, "read"), 4u);
    ASSERT_EQ(chantest::num(ready, "bad"), 0u);

    std::uint64_t filled = 0;
    while (writer.try_write(chantest::make_checked(4 + filled)) == WriteStatus::ok) ++filled;
    EXPECT_EQ(filled, 16u);
    EXPECT_TRUE(writer.consumer_alive());

    std::atomic<Clock::rep> ended_at{0};
    WriteStatus status = WriteStatus::ok;
    std::thread producer([&] {
        status = writer.write(chantest::make_checked(20), 10s);
        ended_at.store(Clock::now().time_since_epoch().count());
    });
    std::this_thread::sleep_for(200ms + random_phase());
    ASSERT_EQ(ended_at.load(), 0) << "write() returned before the kill: " << to_string(status);
    const auto killed_at = Clock::now();
    peer.signal(SIGKILL);
    producer.join();
    peer.wait_exit(chantest::peer_exit_timeout);
    const double latency_ms =
        std::chrono::duration<double, std::milli>(Clock::duration(ended_at.load()) -
                                                  killed_at.time_since_epoch()).count();
    std::printf("  reader_gone %.1f ms after SIGKILL\n", latency_ms);
    RecordProperty("reader_gone_latency_ms", std::to_string(latency_ms));
    EXPECT_EQ(status, WriteStatus::reader_gone);
    EXPECT_LT(latency_ms, 500.0);
    EXPECT_FALSE(writer.consumer_alive());
}

// RELIABILITY L3: a stopped writer is not a dead one. While it is SIGSTOPped the reader's
// read(300 ms) times out (never writer_gone); after SIGCONT delivery resumes, nothing lost.
TEST_F(RingProcesses, StoppedWriterIsTimeoutNotWriterGoneAndResumesAfterCont) {
    const std::string region = name("wstop");
    const std::uint64_t count = 20'000;
    Peer peer({"ring-write", region, "64", std::to_string(count), "single", "close", "20", "create"});
    ASSERT_FALSE(peer.expect("ready").empty());
    auto reader = CheckedRing::reader(region);
    peer.send("go");
    StreamCheck check;
    Checked r;
    for (int i = 0; i < 2000; ++i) {
        ASSERT_EQ(reader.read(r, 10s), ReadStatus::ok);
        check.see(r);
    }
    peer.signal(SIGSTOP);
    const auto stopped_at = Clock::now();
    int timeouts = 0, gone = 0;
    // Drain what was committed before the stop, then three timeouts in a row (900 ms, many
    // liveness intervals).
    while (timeouts < 3 && chantest::ms_since(stopped_at) < 5000) {
        const auto s = reader.read(r, 300ms);
        if (s == ReadStatus::ok) {
            check.see(r);
        } else if (s == ReadStatus::timeout) {
            ++timeouts;
        } else {
            if (s == ReadStatus::writer_gone) ++gone;
            ADD_FAILURE() << "stopped writer: read returned " << to_string(s);
            break;
        }
    }
    EXPECT_TRUE(reader.writer_alive());
    peer.signal(SIGCONT);
    ReadStatus end;
    while ((end = reader.read(r, 10s)) == ReadStatus::ok) check.see(r);
    EXPECT_EQ(peer.wait_exit(chantest::peer_exit_timeout), ExitStatus::code_of(0));
    EXPECT_EQ(timeouts, 3);
    EXPECT_EQ(gone, 0);
    EXPECT_EQ(end, ReadStatus::closed);
    EXPECT_EQ(check.count, count);
    EXPECT_EQ(check.bad + check.out_of_order, 0u);
}

// RELIABILITY B1/B3: 100 000 round trips over two capacity-1 rings, both sides waiting on the
// futex only (spin_iterations = 0), 1 s timeout per read: a lost wake-up shows up as a
// timeout, so there must be none.
TEST_F(RingProcesses, PingPongOverFutexHasNoLostWakeups) {
    const std::string there = name("ping");
    const std::string back = name("pong");
    shmrec::WaitOptions wait;
    wait.strategy = shmrec::WaitStrategy::futex;
    wait.spin_iterations = 0;
    auto out = CheckedRing::writer(there, 1, shmrec::OpenMode::create_only, {}, wait);
    Peer peer({"echo", there, back});
    ASSERT_FALSE(peer.expect("ready").empty());
    auto in = chantest::open_when_created([&] { return CheckedRing::reader(back, {}, wait); });

    const std::uint64_t rounds = 100'000 / scale_down;
    std::uint64_t timeouts = 0, wrong = 0, done = 0, write_failures = 0;
    std::vector<double> rtt_us;
    rtt_us.reserve(rounds);
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < rounds; ++i) {
        const auto t0 = Clock::now();
        if (out.write(chantest::make_checked(i), 1s) != WriteStatus::ok) {
            ++write_failures;
            break;
        }
        Checked r;
        ReadStatus s;
        while ((s = in.read(r, 1s)) == ReadStatus::timeout) {
            if (++timeouts > 5) break;
        }
        if (s != ReadStatus::ok) break;
        if (r.seq != i || !chantest::checksum_ok(r)) ++wrong;
        rtt_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        ++done;
    }
    const double ms = chantest::ms_since(start);
    out.close();
    const auto report = peer.expect("done");
    EXPECT_EQ(peer.wait_exit(chantest::peer_exit_timeout), ExitStatus::code_of(0));
    std::sort(rtt_us.begin(), rtt_us.end());
    const double p50 = rtt_us.empty() ? 0 : rtt_us[rtt_us.size() / 2];
    const double p99 = rtt_us.empty() ? 0 : rtt_us[rtt_us.size() * 99 / 100];
    const double pmax = rtt_us.empty() ? 0 : rtt_us.back();
    std::printf("  %llu round trips in %.0f ms; rtt p50 %.1f us, p99 %.1f us, max %.1f us\n",
                static_cast<unsigned long long>(done), ms, p50, p99, pmax);
    RecordProperty("rtt_p99_us", std::to_string(p99));
    EXPECT_EQ(done, rounds);
    EXPECT_EQ(timeouts, 0u);
    EXPECT_EQ(wrong, 0u);
    EXPECT_EQ(write_failures, 0u);
    EXPECT_EQ(chantest::num(report, "echoed"), rounds);
    EXPECT_EQ(chantest::num(report, "timeouts"), 0u) << (report.count("") ? report.at("") : "");
    EXPECT_LT(pmax, 500'000.0) << "a round trip took half a timeout: a wake-up was missed";
}

}  // namespace
