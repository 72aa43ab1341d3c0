// Cell<T> between real processes (RELIABILITY B1-B3, L2, L3): no torn or out-of-order record
// under a writer writing flat out, cross-process futex wake-ups within a bound and without
// lost wake-ups, and the three ends of a writer: killed (writer_gone), stopped (still alive:
// timeout), closed (closed).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "checked_record.hpp"
#include "child_process.hpp"
#include "printers.hpp"
#include "shmrec/cell.hpp"
#include "test_names.hpp"
#include "timing.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec_test::Checked;
using shmrec_test::ChildProcess;
using shmrec_test::Clock;
using shmrec_test::ExitStatus;
using shmrec_test::make_checked;
using shmrec_test::monotonic_ns;
using shmrec_test::when_waiting;
using CheckedCell = shmrec::Cell<Checked>;

// The peer program of these tests (tests/integration/test_peer.cpp).
constexpr const char* test_peer = SHMREC_TEST_PEER;

double ms(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

template <class Duration>
double ms(Duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

class CellProcessTest : public shmrec_test::RegionFixture {
  protected:
    // A sleep-writer peer that created `region` and is waiting for commands.
    static std::unique_ptr<ChildProcess> start_sleep_writer(const std::string& region) {
        auto peer = std::make_unique<ChildProcess>(
            test_peer, std::vector<std::string>{"sleep-writer", "--name", region});
        EXPECT_EQ(peer->read_line(), "ready");
        return peer;
    }

    static void command(ChildProcess& peer, const std::string& line) {
        peer.send(line);
        EXPECT_EQ(peer.read_line(), "ok") << "peer did not acknowledge '" << line << "'";
    }
};

TEST_F(CellProcessTest, MillionRecordsFromAnotherProcessArriveIntactAndInOrder) {
    constexpr std::uint64_t count = 1'000'000;
    const auto n = name();
    ChildProcess writer(test_peer, {"cell-writer", "--name", n, "--count", std::to_string(count)});
    ASSERT_EQ(writer.read_line(), "ready");
    auto reader = CheckedCell::reader(n);

    std::uint64_t last = 0, distinct = 0, reads = 0, torn = 0, backwards = 0, contended = 0;
    std::uint64_t first_bad = 0, misreported = 0;
    bool writer_died = false;
    writer.send("go");
    const auto start = Clock::now();
    const auto give_up = start + 60s;
    for (std::uint64_t polls = 0;; ++polls) {
        // Closed is read before the record: once it is seen, this read is after the last publish.
        const bool closed = reader.closed();
        Checked rec{};
        const auto r = reader.try_read(rec);
        if (r == ReadStatus::ok || r == ReadStatus::unchanged) {
            ++reads;
            if (!shmrec_test::intact(rec)) {
                if (torn++ == 0) first_bad = rec.seq;
            } else {
                if (rec.seq < last) ++backwards;
                if ((r == ReadStatus::ok) != (rec.seq != last)) ++misreported;
                if (rec.seq > last) ++distinct;
                last = std::max(last, rec.seq);
            }
        } else if (r == ReadStatus::contended) {
            ++contended;
        } else {
            ASSERT_EQ(r, ReadStatus::empty) << "try_read() said " << shmrec::to_string(r);
        }
        if (closed) break;
        if (polls % 4096 == 0 && (!reader.writer_alive() || Clock::now() > give_up)) {
            writer_died = !reader.closed();
            if (writer_died) break;
        }
    }
    const auto elapsed = Clock::now() - start;
    const auto done = writer.read_line();
    EXPECT_EQ(writer.wait_exit(), ExitStatus::code_of(0));

    ASSERT_FALSE(writer_died) << "the writer died or the test gave up before the cell closed";
    EXPECT_EQ(torn, 0u) << "torn records; first with seq " << first_bad;
    EXPECT_EQ(backwards, 0u) << "seq went backwards";
    EXPECT_EQ(misreported, 0u) << "ok for a repeated record, or unchanged for a new one";
    EXPECT_EQ(last, count) << "the read after the writer closed must see the last record";
    ASSERT_TRUE(done.has_value() && done->rfind("done ", 0) == 0) << done.value_or("(nothing)");
    const double writer_ms = std::stod(done->substr(5)) / 1e6;
    std::cout << "[          ] " << count << " records published in " << writer_ms
              << " ms; reader: " << ms(elapsed) << " ms, " << reads << " reads, " << distinct
              << " distinct records, " << contended << " contended\n";
    RecordProperty("writer_ms", std::to_string(writer_ms));
    RecordProperty("distinct_records_seen", std::to_string(distinct));
    RecordProperty("reads", std::to_string(reads));
}

TEST_F(CellProcessTest, ReaderInAnotherProcessSeesIntactRecordsEndingWithTheLast) {
    constexpr std::uint64_t count = 200'000;
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    ChildProcess reader(test_peer, {"cell-reader", "--name", n, "--expect", std::to_string(count)});
    ASSERT_EQ(reader.read_line(), "ready");
    for (std::uint64_t seq = 1; seq <= count; ++seq) {
        ASSERT_EQ(writer.try_write(make_checked(seq)), WriteStatus::ok);
    }
    writer.close();
    const auto seen = reader.read_line(30s);
    EXPECT_EQ(reader.wait_exit(), ExitStatus::code_of(0))
        << "the peer found a torn, reordered or missing record";
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->substr(seen->find(" last ")), " last " + std::to_string(count));
    std::cout << "[          ] peer reader: " << *seen << '\n';
}

TEST_F(CellProcessTest, BlockedReaderWakesPromptlyWhenAnotherProcessPublishes) {
    const auto n = name();
    auto writer = start_sleep_writer(n);
    constexpr int rounds = 5;
    shmrec::WaitOptions options;
    // The liveness check also ends each futex sleep (every 50 ms by default), which would hide
    // a missing wake-up behind a short delay: make it rare, so only the wake-up can end the wait.
    options.liveness_interval = 10s;
    auto reader = CheckedCell::reader(n, shmrec::RegionOptions{}, options);
    std::vector<double> latencies;
    for (int round = 1; round <= rounds; ++round) {
        SCOPED_TRACE(round);
        // The peer sleeps 200 ms, then publishes a record stamped with CLOCK_MONOTONIC.
        writer->send("publish-stamped " + std::to_string(round) + " 200");
        const auto start = Clock::now();
        Checked rec{};
        const auto status = reader.read(rec, 5s);
        const std::uint64_t woke = monotonic_ns();
        const auto waited = Clock::now() - start;
        ASSERT_EQ(status, ReadStatus::ok);
        EXPECT_GE(waited, 190ms) << "the reader did not actually block";
        ASSERT_EQ(rec.seq, static_cast<std::uint64_t>(round));
        ASSERT_TRUE(shmrec_test::checksum_ok(rec));
        ASSERT_LE(rec.b, woke);
        latencies.push_back(ms(woke - rec.b));
        EXPECT_LT(latencies.back(), 100.0) << "wake-up latency after the publish, ms";
        EXPECT_EQ(writer->read_line(), "ok");
    }
    command(*writer, "exit");
    EXPECT_EQ(writer->wait_exit(), ExitStatus::code_of(0));
    std::sort(latencies.begin(), latencies.end());
    std::cout << "[          ] wake latency after publish: min " << latencies.front()
              << " ms, median " << latencies[latencies.size() / 2] << " ms, max "
              << latencies.back() << " ms\n";
    RecordProperty("wake_latency_max_ms", std::to_string(latencies.back()));
}

TEST_F(CellProcessTest, PingPongThroughTwoCellsNeverLosesAWakeUp) {
    constexpr std::uint64_t count = 1000;
    const auto ping_name = name("ping");
    const auto pong_name = name("pong");
    auto ping = CheckedCell::writer(ping_name);
    ChildProcess peer(test_peer, {"pong", "--ping", ping_name, "--pong", pong_name, "--count",
                                  std::to_string(count)});
    ASSERT_EQ(peer.read_line(), "ready");
    shmrec::WaitOptions options;
    // Liveness checks also bound each futex sleep; make them rare so that a lost wake-up
    // shows up as a 1 s timeout instead of a 50 ms hiccup.
    options.liveness_interval = 10s;
    auto pong = CheckedCell::reader(pong_name, shmrec::RegionOptions{}, options);

    std::uint64_t timeouts = 0;
    std::vector<double> round_trips;
    round_trips.reserve(count);
    for (std::uint64_t i = 1; i <= count; ++i) {
        const auto start = Clock::now();
        ASSERT_EQ(ping.try_write(make_checked(i)), WriteStatus::ok);
        Checked rec{};
        ReadStatus status;
        while ((status = pong.read(rec, 1s)) == ReadStatus::timeout) {
            if (++timeouts > 5) break;
        }
        ASSERT_EQ(status, ReadStatus::ok) << "round " << i;
        round_trips.push_back(ms(Clock::now() - start));
        ASSERT_EQ(rec.seq, i);
        ASSERT_TRUE(shmrec_test::matches_seq(rec));
    }
    const auto peer_says = peer.read_line();
    EXPECT_EQ(peer.wait_exit(), ExitStatus::code_of(0))
        << "the peer hit timeouts or saw a bad record";
    EXPECT_EQ(peer_says, "timeouts 0");
    EXPECT_EQ(timeouts, 0u) << "this side's waits timed out";
    std::sort(round_trips.begin(), round_trips.end());
    std::cout << "[          ] " << count << " round trips: median "
              << round_trips[round_trips.size() / 2] << " ms, p99 "
              << round_trips[round_trips.size() * 99 / 100] << " ms, max " << round_trips.back()
              << " ms\n";
}

TEST_F(CellProcessTest, KilledWriterIsReportedAsWriterGoneAndItsLastRecordStays) {
    const auto n = name();
    auto writer = start_sleep_writer(n);
    command(*writer, "publish 1");
    auto reader = CheckedCell::reader(n);
    ASSERT_EQ(reader.try_read().value().seq, 1u);
    ASSERT_TRUE(reader.writer_alive());

    std::atomic<std::int64_t> killed_at{0};
    auto killer = when_waiting(
        reader,
        [&] {
            killed_at = Clock::now().time_since_epoch().count();
            writer->signal(SIGKILL);
        },
        10s);
    Checked rec{};
    const auto status = reader.read(rec, 5s);
    const auto returned = Clock::now();
    killer.join();
    EXPECT_EQ(status, ReadStatus::writer_gone);
    const auto after_kill = returned - Clock::time_point(Clock::duration(killed_at.load()));
    EXPECT_LT(after_kill, 500ms) << "liveness_interval is 50 ms by default";
    EXPECT_EQ(writer->wait_exit(), ExitStatus::killed(SIGKILL));
    std::cout << "[          ] writer_gone " << ms(after_kill) << " ms after SIGKILL\n";

    // What was written before the kill is still there, and the cell is not `closed`.
    EXPECT_FALSE(reader.writer_alive());
    EXPECT_FALSE(reader.closed());
    rec = Checked{};
    ASSERT_EQ(reader.try_read(rec), ReadStatus::unchanged) << "record 1 was read already";
    EXPECT_EQ(rec.seq, 1u);
    EXPECT_TRUE(shmrec_test::matches_seq(rec));

    // A new writer takes over without any manual cleanup and continues the count.
    auto successor = CheckedCell::writer(n, shmrec::OpenMode::open_only);
    EXPECT_EQ(successor.written(), 1u);
    ASSERT_EQ(successor.try_write(make_checked(2)), WriteStatus::ok);
    EXPECT_EQ(reader.read(rec, 1s), ReadStatus::ok);
    EXPECT_EQ(rec.seq, 2u);
    EXPECT_TRUE(shmrec_test::matches_seq(rec));
    EXPECT_TRUE(reader.writer_alive());
}

TEST_F(CellProcessTest, WaitRightAfterWriterGoneStillReportsWriterGone) {
    // Once a handle has seen its writer dead, a following short wait must not report `timeout`
    // (which means "the writer is alive, nothing new yet") just because the next liveness check
    // is not due.
    const auto n = name();
    auto writer = start_sleep_writer(n);
    command(*writer, "publish 1");
    auto reader = CheckedCell::reader(n);
    ASSERT_EQ(reader.try_read().value().seq, 1u);
    writer->signal(SIGKILL);
    ASSERT_EQ(writer->wait_exit(), ExitStatus::killed(SIGKILL));  // reaped: its lock is released
    ASSERT_FALSE(reader.writer_alive());
    Checked rec{};
    EXPECT_EQ(reader.read(rec, 5s), ReadStatus::writer_gone);
    for (const auto timeout : {0ms, 10ms, 10ms}) {
        SCOPED_TRACE(timeout.count());
        EXPECT_EQ(reader.read(rec, timeout), ReadStatus::writer_gone);
    }
}

TEST_F(CellProcessTest, StoppedWriterIsStillAliveAndRecordsFlowAfterItContinues) {
    const auto n = name();
    auto writer = start_sleep_writer(n);
    command(*writer, "publish 1");
    auto reader = CheckedCell::reader(n);
    ASSERT_EQ(reader.try_read().value().seq, 1u);

    writer->signal(SIGSTOP);
    ASSERT_TRUE(writer->wait_stopped());
    EXPECT_TRUE(reader.writer_alive()) << "a stopped writer holds its liveness lock";
    const auto start = Clock::now();
    Checked rec{};
    EXPECT_EQ(reader.read(rec, 300ms), ReadStatus::timeout) << "not writer_gone";
    EXPECT_GE(Clock::now() - start, 300ms);
    EXPECT_TRUE(reader.writer_alive());

    writer->signal(SIGCONT);
    ASSERT_TRUE(writer->wait_continued());
    command(*writer, "publish 2");
    ASSERT_EQ(reader.read(rec, 2s), ReadStatus::ok);
    EXPECT_EQ(rec.seq, 2u);
    EXPECT_TRUE(shmrec_test::matches_seq(rec));
    command(*writer, "exit");
    EXPECT_EQ(writer->wait_exit(), ExitStatus::code_of(0));
}

TEST_F(CellProcessTest, WriterThatExitsCleanlyIsReportedAsClosed) {
    const auto n = name();
    auto writer = start_sleep_writer(n);
    auto reader = CheckedCell::reader(n);
    // The peer answers "exit" and returns from main; its writer handle closes the cell.
    auto exiter = when_waiting(
        reader, [&] { writer->send("exit"); }, 10s);
    const auto start = Clock::now();
    Checked rec{};
    const auto status = reader.read(rec, 5s);
    const auto waited = Clock::now() - start;
    exiter.join();
    EXPECT_EQ(status, ReadStatus::closed);
    EXPECT_LT(waited, 1s);
    EXPECT_EQ(writer->read_line(), "ok");
    EXPECT_EQ(writer->wait_exit(), ExitStatus::code_of(0));
    // Gone now, but cleanly: still closed, never writer_gone.
    EXPECT_FALSE(reader.writer_alive());
    EXPECT_TRUE(reader.closed());
    EXPECT_EQ(reader.read(rec, 100ms), ReadStatus::closed);
}

TEST_F(CellProcessTest, WriterClosingWhileAliveIsReportedAsClosed) {
    const auto n = name();
    auto writer = start_sleep_writer(n);
    command(*writer, "publish 1");
    auto reader = CheckedCell::reader(n);
    ASSERT_EQ(reader.try_read().value().seq, 1u);
    auto closer = when_waiting(
        reader, [&] { writer->send("close"); }, 10s);
    Checked rec{};
    EXPECT_EQ(reader.read(rec, 5s), ReadStatus::closed);
    closer.join();
    EXPECT_EQ(writer->read_line(), "ok");
    EXPECT_TRUE(reader.writer_alive());
    command(*writer, "exit");
    EXPECT_EQ(writer->wait_exit(), ExitStatus::code_of(0));
}

}  // namespace
