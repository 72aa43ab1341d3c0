// untyped::BroadcastReader::try_read_run (AtLap::end_batch) against laps forged in the middle of
// a batch, one thread, every lap placed by hand; and the byte ring observer's claim check
// against a claim forged implausibly far ahead.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "byte_messages.hpp"
#include "channel_test_support.hpp"
#include "shmrec/broadcast.hpp"
#include "shmrec/byte_ring.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/untyped.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec_test::Checked;
using shmrec_test::make_checked;
namespace d = shmrec::detail;

class BroadcastRun : public shmrec_test::RegionFixture {};

Checked record_at(const std::vector<std::byte>& out, std::size_t i) {
    Checked r{};
    std::memcpy(&r, out.data() + i * sizeof(Checked), sizeof(Checked));
    return r;
}

template <class Reader>
void expect_balanced(const Reader& r) {
    EXPECT_EQ(r.received() + r.lost(), r.position() - r.start_position());
}

// Capacity 8, positions 0..5 written, and slot 3 forged to hold position 11 (one lap ahead,
// complete): a lap in the middle of a 6-record batch.
struct MidBatchLap {
    explicit MidBatchLap(const std::string& n) : writer(shmrec::Broadcast<Checked>::writer(n, 8)) {
        for (std::uint64_t i = 0; i < 6; ++i) {
            EXPECT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
        }
        d::BroadcastView<Checked> view(writer.region());
        view.version(3).store(2 * (3 + 8) + 2, std::memory_order_release);
    }
    shmrec::Broadcast<Checked>::Writer writer;
};

TEST_F(BroadcastRun, ARunEndsBeforeAMidBatchLapAndTheNextRunCountsExactlyTheSkip) {
    const std::string n = name();
    MidBatchLap ring(n);
    auto reader = shmrec::untyped::broadcast_reader(n, shmrec::StartAt::oldest);
    ASSERT_EQ(reader.start_position(), 0u);
    std::vector<std::byte> out(6 * sizeof(Checked));

    auto first = reader.try_read_run(out);
    ASSERT_EQ(first.status, ReadStatus::ok);
    ASSERT_EQ(first.count, 3u);  // 0, 1, 2: the lap at 3 ends the run before it
    for (std::size_t i = 0; i < first.count; ++i) EXPECT_EQ(record_at(out, i).seq, i);
    EXPECT_EQ(reader.position(), 3u);
    EXPECT_EQ(reader.lost(), 0u);
    expect_balanced(reader);

    // The next run moves past the lap: front 11 (from the version; tail 6 is behind it), so
    // the oldest intact position is 4 and exactly position 3 is lost, before its first record.
    auto second = reader.try_read_run(out);
    ASSERT_EQ(second.status, ReadStatus::ok);
    ASSERT_EQ(second.count, 2u);
    EXPECT_EQ(record_at(out, 0).seq, 4u);
    EXPECT_EQ(record_at(out, 1).seq, 5u);
    EXPECT_TRUE(shmrec_test::intact(record_at(out, 1)));
    EXPECT_EQ(reader.lost(), 1u);
    EXPECT_EQ(reader.received(), 5u);
    EXPECT_EQ(reader.position(), 6u);  // the run is positions [position() - count, position())
    expect_balanced(reader);

    EXPECT_EQ(reader.try_read_run(out).status, ReadStatus::empty);
    EXPECT_EQ(reader.lost(), 1u);  // not counted twice
    expect_balanced(reader);
}

TEST_F(BroadcastRun, ABatchReadStepsOverTheSameLap) {
    const std::string n = name();
    MidBatchLap ring(n);
    auto reader = shmrec::untyped::broadcast_reader(n, shmrec::StartAt::oldest);
    std::vector<std::byte> out(6 * sizeof(Checked));
    auto batch = reader.try_read_batch(out);
    ASSERT_EQ(batch.status, ReadStatus::ok);
    ASSERT_EQ(batch.count, 5u);
    const std::uint64_t expected[] = {0, 1, 2, 4, 5};
    for (std::size_t i = 0; i < batch.count; ++i) EXPECT_EQ(record_at(out, i).seq, expected[i]);
    EXPECT_EQ(reader.lost(), 1u);
    EXPECT_EQ(reader.position(), 6u);
    expect_balanced(reader);
}

// A lap at the first record of a run is moved past (counted), not treated as the run's end;
// a run that ends at a lap and the one after it leave the same counts as one batch read.
TEST_F(BroadcastRun, ALapAtTheRunsFirstRecordIsCountedAndRead) {
    const std::string n = name();
    MidBatchLap ring(n);
    auto reader = shmrec::untyped::broadcast_reader(n, shmrec::StartAt::oldest);
    std::vector<std::byte> one(sizeof(Checked));
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(reader.try_read(one), ReadStatus::ok);
    std::vector<std::byte> out(6 * sizeof(Checked));
    auto run = reader.try_read_run(out);
    ASSERT_EQ(run.status, ReadStatus::ok);
    ASSERT_EQ(run.count, 2u);
    EXPECT_EQ(record_at(out, 0).seq, 4u);
    EXPECT_EQ(reader.lost(), 1u);
    expect_balanced(reader);
}

// A version one lap ahead but not complete (odd: the writer died after claiming it): the run
// still ends before it, and the next run moves past it counting it once.
TEST_F(BroadcastRun, AnOddVersionALapAheadEndsTheRunToo) {
    const std::string n = name();
    MidBatchLap ring(n);
    d::BroadcastView<Checked> view(ring.writer.region());
    view.version(3).store(2 * (3 + 8) + 1, std::memory_order_release);
    auto reader = shmrec::untyped::broadcast_reader(n, shmrec::StartAt::oldest);
    std::vector<std::byte> out(6 * sizeof(Checked));
    ASSERT_EQ(reader.try_read_run(out).count, 3u);
    auto second = reader.try_read_run(out);
    ASSERT_EQ(second.status, ReadStatus::ok);
    EXPECT_EQ(record_at(out, 0).seq, 4u);
    EXPECT_EQ(reader.lost(), 1u);
    expect_balanced(reader);
}

// A version forged ahead by less than a lap in mid-run: the run ends before it (ok, what came
// before), and the next call reports corrupt, staying there, with nothing counted as lost.
TEST_F(BroadcastRun, AForgedVersionMidRunIsCorruptOnTheNextCall) {
    const std::string n = name();
    MidBatchLap ring(n);
    d::BroadcastView<Checked> view(ring.writer.region());
    view.version(3).store(2 * (3 + 5) + 2, std::memory_order_release);
    auto reader = shmrec::untyped::broadcast_reader(n, shmrec::StartAt::oldest);
    std::vector<std::byte> out(6 * sizeof(Checked));
    auto first = reader.try_read_run(out);
    ASSERT_EQ(first.status, ReadStatus::ok);
    ASSERT_EQ(first.count, 3u);
    EXPECT_EQ(reader.try_read_run(out).status, ReadStatus::corrupt);
    EXPECT_EQ(reader.position(), 3u);
    EXPECT_EQ(reader.lost(), 0u);
    expect_balanced(reader);
}

// ---- byte ring observer: a claim forged far beyond any plausible lead --------------------

class ObserverClaim : public shmrec_test::RegionFixture {};

// Nothing new at the observer's position, and `claimed` forged 2^50 bytes ahead (no healthy
// writer claims that far: resync() rejects it as a lap start). The claim check must not make
// every attempt resync to the same place and answer `contended` (which read() retries without
// sleeping, burning a core until its deadline): the tail says empty, and empty it is.
TEST_F(ObserverClaim, AnImplausiblyFarClaimIsNotContention) {
    const std::string n = name();
    auto w = shmrec::ByteRing::writer(n, bytetest::frame_type, 256);
    auto r = shmrec::ByteRing::reader(n, bytetest::frame_type);
    ASSERT_EQ(w.try_write(bytetest::make_message(0, 8)), WriteStatus::ok);  // frame 0..32
    auto o = shmrec::untyped::byte_ring_observer(n);
    std::vector<std::byte> got;
    ASSERT_EQ(o.try_read(got), ReadStatus::ok);
    ASSERT_EQ(o.position(), 32u);
    auto& ctl = *reinterpret_cast<d::ByteRingControl*>(d::RegionAccess::data(w.region()));
    ctl.ring.claimed.store(32 + (std::uint64_t{1} << 50), std::memory_order_relaxed);
    EXPECT_EQ(o.try_read(got), ReadStatus::empty);
    EXPECT_EQ(o.read(got, 20ms), ReadStatus::timeout);
    EXPECT_EQ(o.position(), 32u);
}

// The healthy case the claim check is for: a claim a lap past the observer while tail is held
// back (a batch), tail still at the observer's position. The observer resyncs forward to the
// claim's lap start instead of answering empty.
TEST_F(ObserverClaim, AClaimALapAheadWithTailHeldBackResyncs) {
    const std::string n = name();
    auto w = shmrec::ByteRing::writer(n, bytetest::frame_type, 256);
    auto r = shmrec::ByteRing::reader(n, bytetest::frame_type);
    ASSERT_EQ(w.try_write(bytetest::make_message(0, 8)), WriteStatus::ok);
    auto o = shmrec::untyped::byte_ring_observer(n);
    std::vector<std::byte> got;
    ASSERT_EQ(o.try_read(got), ReadStatus::ok);
    auto& ctl = *reinterpret_cast<d::ByteRingControl*>(d::RegionAccess::data(w.region()));
    // Slot 32 cleared (reused), claim at 256 + 64, tail still 32, head moved to 256.
    auto* buffer = d::RegionAccess::data(w.region()) + sizeof(d::ByteRingControl);
    reinterpret_cast<d::FrameHeader*>(buffer + 32)->state.store(0, std::memory_order_release);
    ctl.ring.head.store(256, std::memory_order_relaxed);
    ctl.ring.claimed.store(256 + 64, std::memory_order_relaxed);
    (void)o.try_read(got);
    EXPECT_EQ(o.position(), 256u);
}

}  // namespace
