// Broadcast<T> with its writer and readers on threads of one process (each with its own open
// of the region). ThreadSanitizer target (RELIABILITY M2); processes: broadcast_process_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "channel_test_support.hpp"
#include "shmrec/broadcast.hpp"
#include "shmrec/ring.hpp"
#include "shmrec/untyped.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using chantest::Clock;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec::StartAt;
using shmrec_test::Checked;
using CheckedBroadcast = shmrec::Broadcast<Checked>;

constexpr std::uint64_t broadcast_records = shmrec_test::under_sanitizer ? 100'000 : 400'000;

class BroadcastThreads : public shmrec_test::RegionFixture {};

// What one reader saw of a stream whose record p has seq p.
struct ReaderTally {
    std::uint64_t received = 0, lost = 0, position = 0, start = 0;
    std::uint64_t bad = 0;            // checksum failures
    std::uint64_t nonincreasing = 0;  // seq not strictly above the previous one
    std::uint64_t posmismatch = 0;    // seq != position() - 1 right after the read
    std::uint64_t own_count = 0;      // records this loop counted itself
    ReadStatus end = ReadStatus::ok;
};

ReaderTally drain(CheckedBroadcast::Reader& reader, std::uint64_t slow_every,
                  std::chrono::microseconds slow) {
    ReaderTally t;
    std::optional<std::uint64_t> last;
    int timeouts = 0;
    for (;;) {
        Checked r;
        const ReadStatus s = reader.read(r, 5s);
        if (s == ReadStatus::timeout && ++timeouts < 4) continue;  // lapped on every retry
        if (s != ReadStatus::ok) {
            t.end = s;
            break;
        }
        ++t.own_count;
        if (!chantest::checksum_ok(r)) ++t.bad;
        // Wrap-aware (the 64-bit wrap test crosses 2^64, and a lap may skip the wrap point).
        if (last && shmrec::detail::ahead(r.seq, *last) <= 0) ++t.nonincreasing;
        if (r.seq != reader.position() - 1) ++t.posmismatch;
        last = r.seq;
        if (slow_every != 0 && t.own_count % slow_every == 0) std::this_thread::sleep_for(slow);
    }
    t.received = reader.received();
    t.lost = reader.lost();
    t.position = reader.position();
    t.start = reader.start_position();
    return t;
}

void expect_exact_accounting(const ReaderTally& t, std::uint64_t written, const char* who) {
    SCOPED_TRACE(who);
    EXPECT_EQ(t.end, ReadStatus::closed);
    EXPECT_EQ(t.received + t.lost, written);
    EXPECT_EQ(t.received + t.lost, t.position - t.start);
    EXPECT_EQ(t.own_count, t.received);
    EXPECT_EQ(t.position, written);
    EXPECT_EQ(t.bad, 0u);
    EXPECT_EQ(t.nonincreasing, 0u);
    EXPECT_EQ(t.posmismatch, 0u);
}

// A fast and a deliberately slow reader: each accounts for every record, received or lost,
// and every record received is intact and newer than the one before.
TEST_F(BroadcastThreads, FastAndSlowReadersAccountForEveryRecord) {
    const std::string region = name("fastslow");
    auto writer = CheckedBroadcast::writer(region, 64);
    auto fast = CheckedBroadcast::reader(region, StartAt::oldest);
    auto slow = CheckedBroadcast::reader(region, StartAt::oldest);
    ReaderTally tf, ts;
    std::thread fast_thread([&] { tf = drain(fast, 0, {}); });
    std::thread slow_thread([&] { ts = drain(slow, 16, 200us); });

    const auto start = Clock::now();
    std::vector<Checked> batch(8);
    for (std::uint64_t seq = 0; seq < broadcast_records;) {
        if (seq % 1024 < 512) {
            ASSERT_EQ(chantest::status_of(writer.try_write(chantest::make_checked(seq++))), WriteStatus::ok);
        } else {  // the batch form for the other half
            for (auto& b : batch) b = chantest::make_checked(seq++);
            ASSERT_EQ(chantest::status_of(writer.try_write(std::span<const Checked>(batch))), WriteStatus::ok);
        }
        if (seq % 256 == 0) std::this_thread::yield();
    }
    const std::uint64_t written = writer.written();
    writer.close();
    fast_thread.join();
    slow_thread.join();
    const double ms = chantest::ms_since(start);

    std::printf("  written %llu in %.1f ms; fast received %llu lost %llu; slow received %llu lost %llu\n",
                static_cast<unsigned long long>(written), ms,
                static_cast<unsigned long long>(tf.received), static_cast<unsigned long long>(tf.lost),
                static_cast<unsigned long long>(ts.received), static_cast<unsigned long long>(ts.lost));
    RecordProperty("fast_lost", std::to_string(tf.lost));
    RecordProperty("slow_lost", std::to_string(ts.lost));
    ASSERT_EQ(written, broadcast_records);
    expect_exact_accounting(tf, written, "fast");
    expect_exact_accounting(ts, written, "slow");
    EXPECT_GT(ts.lost, 0u) << "the slow reader was never lapped: the test did not test laps";
}

// untyped::BroadcastReader::read_run (the bridge's exporter): every run is consecutive
// positions, and a lap lands between two runs, so lost() read after a run counts only records
// before its first one. After each lap the reader sits at the oldest intact slot, racing the
// writer, so a few laps fall in the middle of a run: with the lap skipped inside the run (the
// batch read's behaviour) this test sees 1-5 records out of place in every run of it.
TEST_F(BroadcastThreads, UntypedRunsAreConsecutiveAndEveryLapFallsBetweenTwoRuns) {
    const std::string region = name("runs");
    auto writer = CheckedBroadcast::writer(region, 16);
    auto reader = shmrec::untyped::broadcast_reader(region, StartAt::oldest);
    std::uint64_t runs = 0, gaps = 0, misplaced = 0, wrong_loss = 0, received = 0;
    ReadStatus end = ReadStatus::ok;
    std::thread reader_thread([&] {
        std::vector<Checked> out(8);
        const auto bytes = std::as_writable_bytes(std::span(out));
        std::uint64_t expected = 0, lost_before = 0;
        for (;;) {
            const shmrec::BatchRead r = reader.read_run(bytes, 5s);
            if (r.count == 0) {
                if (r.status == ReadStatus::contended || r.status == ReadStatus::timeout) continue;
                end = r.status;
                break;
            }
            const std::uint64_t first = reader.position() - r.count;
            for (std::size_t j = 0; j < r.count; ++j) {
                if (out[j].seq != first + j || !chantest::checksum_ok(out[j])) ++misplaced;
            }
            // The loss this run reports is exactly the gap before its first record.
            if (reader.lost() - lost_before != first - expected) ++wrong_loss;
            if (first != expected) ++gaps;
            lost_before = reader.lost();
            expected = first + r.count;
            received += r.count;
            ++runs;
        }
    });
    for (std::uint64_t seq = 0; seq < broadcast_records; ++seq) {
        ASSERT_EQ(chantest::status_of(writer.try_write(chantest::make_checked(seq))), WriteStatus::ok);
    }
    writer.close();
    reader_thread.join();
    std::printf("  %llu runs, %llu of them after a gap; received %llu, lost %llu\n",
                static_cast<unsigned long long>(runs), static_cast<unsigned long long>(gaps),
                static_cast<unsigned long long>(received),
                static_cast<unsigned long long>(reader.lost()));
    EXPECT_EQ(end, ReadStatus::closed);
    EXPECT_EQ(misplaced, 0u);
    EXPECT_EQ(wrong_loss, 0u);
    EXPECT_EQ(received + reader.lost(), broadcast_records);
    EXPECT_GT(gaps, 0u) << "the reader was never lapped: the test did not test laps";
}

// Lapped while not reading: the reader skips to the oldest slot the writer cannot be
// rewriting (documented: max(r + 1, tail + 1 - capacity)) and counts the rest as lost.
TEST_F(BroadcastThreads, LappedReaderCountsExactlyWhatItLost) {
    const std::string region = name("lapped");
    auto writer = CheckedBroadcast::writer(region, 8);
    auto reader = CheckedBroadcast::reader(region, StartAt::oldest);
    for (std::uint64_t i = 0; i < 30; ++i) ASSERT_EQ(chantest::status_of(writer.try_write(chantest::make_checked(i))), WriteStatus::ok);
    Checked r;
    ASSERT_EQ(reader.try_read(r), ReadStatus::ok);
    EXPECT_EQ(r.seq, 23u);
    EXPECT_EQ(reader.lost(), 23u);
    std::uint64_t next = 24;
    while (reader.try_read(r) == ReadStatus::ok) {
        EXPECT_EQ(r.seq, next++);
        EXPECT_TRUE(chantest::checksum_ok(r));
    }
    EXPECT_EQ(next, 30u);
    EXPECT_EQ(reader.received() + reader.lost(), 30u);
    EXPECT_EQ(reader.try_read(r), ReadStatus::empty);
}

TEST_F(BroadcastThreads, StartAtNewestBeginsWithTheMostRecentRecord) {
    const std::string region = name("newest");
    auto writer = CheckedBroadcast::writer(region, 4);
    // Before anything was written: the first record.
    auto early = CheckedBroadcast::reader(region, StartAt::newest);
    EXPECT_EQ(early.start_position(), 0u);
    for (std::uint64_t i = 0; i < 10; ++i) ASSERT_EQ(chantest::status_of(writer.try_write(chantest::make_checked(i))), WriteStatus::ok);

    auto newest = CheckedBroadcast::reader(region, StartAt::newest);
    auto oldest = CheckedBroadcast::reader(region, StartAt::oldest);
    EXPECT_EQ(newest.start_position(), 9u);
    EXPECT_EQ(oldest.start_position(), 6u);
    Checked r;
    ASSERT_EQ(newest.try_read(r), ReadStatus::ok);
    EXPECT_EQ(r.seq, 9u);
    EXPECT_EQ(newest.try_read(r), ReadStatus::empty);
    ASSERT_EQ(oldest.try_read(r), ReadStatus::ok);
    EXPECT_EQ(r.seq, 6u);
    EXPECT_EQ(oldest.lost(), 0u);

    // A newest reader blocked in read() gets the next record.
    ReadStatus s = ReadStatus::empty;
    Checked got;
    std::thread t([&] { s = newest.read(got, 5s); });
    std::this_thread::sleep_for(50ms);
    ASSERT_EQ(chantest::status_of(writer.try_write(chantest::make_checked(10))), WriteStatus::ok);
    t.join();
    EXPECT_EQ(s, ReadStatus::ok);
    EXPECT_EQ(got.seq, 10u);
    EXPECT_EQ(newest.received() + newest.lost(), newest.position() - newest.start_position());
}

TEST_F(BroadcastThreads, ReaderGetsClosedAfterTheLastRecord) {
    const std::string region = name("closed");
    auto writer = CheckedBroadcast::writer(region, 8);
    auto reader = CheckedBroadcast::reader(region, StartAt::oldest);
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(chantest::status_of(writer.try_write(chantest::make_checked(i))), WriteStatus::ok);
    writer.close();
    Checked r;
    for (std::uint64_t i = 0; i < 3; ++i) {
        ASSERT_EQ(reader.read(r, 1s), ReadStatus::ok);
        EXPECT_EQ(r.seq, i);
    }
    const auto t0 = Clock::now();
    EXPECT_EQ(reader.read(r, 5s), ReadStatus::closed);
    EXPECT_LT(chantest::ms_since(t0), 100.0);
}

TEST_F(BroadcastThreads, OpeningABroadcastAsARingIsWrongKind) {
    const std::string region = name("kind");
    auto writer = CheckedBroadcast::writer(region, 8);
    try {
        auto r = shmrec::Ring<Checked>::reader(region);
        FAIL() << "opened a broadcast as a ring";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::wrong_kind) << e.what();
    }
}

TEST_F(BroadcastThreads, OpeningWithAnotherRecordTypeIsTypeMismatch) {
    const std::string region = name("type");
    auto writer = CheckedBroadcast::writer(region, 8);
    try {
        auto r = shmrec::Broadcast<shmrec_test::Other>::reader(region);
        FAIL() << "opened a Checked broadcast as Other";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::type_mismatch) << e.what();
    }
}

TEST_F(BroadcastThreads, CapacityNotAPowerOfTwoIsInvalidArgument) {
    for (std::uint64_t cap : {std::uint64_t{0}, std::uint64_t{6}, std::uint64_t{1} << 32}) {
        const std::string region = name("cap");
        try {
            auto w = CheckedBroadcast::writer(region, cap);
            ADD_FAILURE() << "capacity " << cap << " accepted";
        } catch (const shmrec::Error& e) {
            EXPECT_EQ(e.code(), shmrec::ErrorCode::invalid_argument) << e.what();
        }
    }
}

// RELIABILITY C12 for the broadcast: slot versions are 2p+2, so they wrap at p = 2^63 - 1 and
// positions themselves at 2^64. Test hook as for the ring (ring_thread_test.cpp): a first
// writer sets tail = P and fills the slots of [P - capacity, P) with intact records (seqlock
// stamp p + 1); a writer re-opened with open_only continues at P. A reader attached at the
// oldest record (P - capacity) sleeps on the doorbell (no spin) while 10 000 records cross P,
// with laps forced now and then so the lap arithmetic crosses it too.
void run_broadcast_across(const std::string& region, std::uint64_t start) {
    const std::uint64_t cap = 16;
    {
        auto first = CheckedBroadcast::writer(region, cap);
        shmrec_test::keep_alive(region);  // Windows: the object outlives `first`
        shmrec::detail::BroadcastView<Checked> view(first.region());
        view.control->tail.store(start);
        for (std::uint64_t p = start - cap; p != start; ++p) {
            shmrec::detail::Seqlock<Checked>::store(view.version(p), view.payload(p), p + 1,
                                                     chantest::make_checked(p),
                                                     shmrec::detail::broadcast_fault_points);
        }
    }
    auto writer = CheckedBroadcast::writer(region, 0, shmrec::OpenMode::open_only);
    ASSERT_EQ(writer.written(), start);
    shmrec::WaitOptions wait;
    wait.strategy = shmrec::WaitStrategy::futex;
    wait.spin_iterations = 0;
    auto reader = CheckedBroadcast::reader(region, StartAt::oldest, {}, wait);
    ASSERT_EQ(reader.start_position(), start - cap);

    const std::uint64_t records = 10'000;
    ReaderTally t;
    std::thread consumer([&] { t = drain(reader, 0, {}); });
    for (std::uint64_t i = 0; i < records; ++i) {
        ASSERT_EQ(writer.try_write(chantest::make_checked(start + i)), WriteStatus::ok);
        if (i % 4 == 0) std::this_thread::yield();  // let the reader sleep now and then
    }
    writer.close();
    consumer.join();
    EXPECT_EQ(t.end, ReadStatus::closed);
    EXPECT_EQ(t.received + t.lost, records + cap);
    EXPECT_EQ(t.position, start + records);
    EXPECT_EQ(t.bad, 0u);
    EXPECT_EQ(t.nonincreasing, 0u);
    EXPECT_EQ(t.posmismatch, 0u);
}

TEST_F(BroadcastThreads, PositionsCrossThe32BitWrap) {
    run_broadcast_across(name("wrap32"), (std::uint64_t{1} << 31) - 100);
}
TEST_F(BroadcastThreads, VersionsCrossThe64BitWrap) {
    run_broadcast_across(name("wrap63"), (std::uint64_t{1} << 63) - 100);
}
TEST_F(BroadcastThreads, PositionsCrossThe64BitWrap) {
    run_broadcast_across(name("wrap64"), std::uint64_t{0} - 100);
}

}  // namespace
