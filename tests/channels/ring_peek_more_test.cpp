// The untyped ring consumer's window (untyped.hpp, peek_more): several batches copied out
// without being consumed, each released later, in order (what shmrec-bridge's ring exporter
// does: records leave A's ring only once B has them). One thread, every state forced.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "channel_test_support.hpp"
#include "shm_file.hpp"
#include "shmrec/ring.hpp"
#include "shmrec/untyped.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec_test::Checked;

class UntypedRingWindow : public shmrec_test::RegionFixture {
  protected:
    static std::vector<std::byte> records(std::uint64_t first, std::size_t count) {
        std::vector<std::byte> out(count * sizeof(Checked));
        for (std::size_t i = 0; i < count; ++i) {
            const Checked c = shmrec_test::make_checked(first + i);
            std::memcpy(out.data() + i * sizeof(Checked), &c, sizeof(Checked));
        }
        return out;
    }
    // The seqs of the first `n` records of `buffer`.
    static std::vector<std::uint64_t> seqs(const std::vector<std::byte>& buffer, std::size_t n) {
        std::vector<std::uint64_t> out;
        for (std::size_t i = 0; i < n; ++i) {
            Checked c{};
            std::memcpy(&c, buffer.data() + i * sizeof(Checked), sizeof(Checked));
            out.push_back(c.seq);
        }
        return out;
    }
    static std::span<std::byte> first(std::vector<std::byte>& buffer, std::size_t n) {
        return std::span(buffer).first(n * sizeof(Checked));
    }
    // A hostile writer: stores `seq` into the sequence word of ring slot `slot` of `region`.
    static void forge_seq(const std::string& region, std::uint64_t slot, std::uint64_t seq) {
        shmrec_test::poke_header(
            shmrec_test::shm_path(region),
            [&](shmrec::detail::RegionHeader& h, std::byte* base, std::uint64_t) {
                auto* at = base + h.data_offset + sizeof(shmrec::detail::RingControl) +
                           slot * h.slot_stride;
                reinterpret_cast<std::atomic<std::uint64_t>*>(at)->store(seq);
            });
    }
};

TEST_F(UntypedRingWindow, PeekMoreKeepsSeveralBatchesOutAndReleaseConsumesThemInOrder) {
    const std::string region = name();
    auto writer = shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 8);
    auto reader = shmrec::untyped::ring_reader(region);
    std::vector<std::byte> out(8 * sizeof(Checked));
    ASSERT_EQ(writer.try_write_batch(records(0, 6)).count, 6u);

    // Three batches out: 0-1, 2-4, 5. None consumed.
    ASSERT_EQ(reader.try_peek_batch(first(out, 2)).count, 2u);
    EXPECT_EQ(seqs(out, 2), (std::vector<std::uint64_t>{0, 1}));
    ASSERT_EQ(reader.try_peek_more(first(out, 3)).count, 3u);
    EXPECT_EQ(seqs(out, 3), (std::vector<std::uint64_t>{2, 3, 4}));
    ASSERT_EQ(reader.peek_more(out, 1s).count, 1u);
    EXPECT_EQ(seqs(out, 1), (std::vector<std::uint64_t>{5}));
    EXPECT_EQ(reader.peeked(), 6u);
    EXPECT_EQ(reader.consumed(), 0u);
    EXPECT_EQ(reader.try_peek_more(out).status, ReadStatus::empty);
    EXPECT_EQ(reader.peek_more(out, 10ms).status, ReadStatus::timeout);

    // The ring fills: every slot is out, the writer has no room and a further peek finds none.
    ASSERT_EQ(writer.try_write_batch(records(6, 2)).count, 2u);
    EXPECT_EQ(writer.try_write_batch(records(8, 1)).status, WriteStatus::full);
    ASSERT_EQ(reader.try_peek_more(out).count, 2u);
    EXPECT_EQ(seqs(out, 2), (std::vector<std::uint64_t>{6, 7}));
    EXPECT_EQ(reader.try_peek_more(out).status, ReadStatus::empty);
    EXPECT_EQ(reader.peek_more(out, 10ms).status, ReadStatus::empty);  // no wait: nothing can come

    // The first batch confirmed: its records leave, the writer has room for that many, and
    // the next peek_more continues after the records still out.
    EXPECT_EQ(reader.release(2), 2u);
    EXPECT_EQ(reader.consumed(), 2u);
    EXPECT_EQ(reader.peeked(), 6u);
    ASSERT_EQ(writer.try_write_batch(records(8, 3)).count, 2u);
    ASSERT_EQ(reader.try_peek_more(out).count, 2u);
    EXPECT_EQ(seqs(out, 2), (std::vector<std::uint64_t>{8, 9}));
    // Release is clamped to what is out.
    EXPECT_EQ(reader.release(100), 8u);
    EXPECT_EQ(reader.consumed(), 10u);
    EXPECT_EQ(reader.peeked(), 0u);

    // A close is seen after the records still out: they are not the reader's to lose.
    ASSERT_EQ(writer.try_write_batch(records(10, 1)).count, 1u);
    writer.close();
    ASSERT_EQ(reader.try_peek_more(out).count, 1u);
    EXPECT_EQ(reader.try_peek_more(out).status, ReadStatus::closed);
    EXPECT_EQ(reader.peek_more(out, 1s).status, ReadStatus::closed);
    EXPECT_EQ(reader.release(1), 1u);
    EXPECT_EQ(reader.consumed(), 11u);
}

// The window is one lap at most. Position head + capacity lives in the head's slot, which the
// consumer still holds (peeked, not released): no healthy writer can have reached it. A hostile
// writer that re-stamps that slot as position head + capacity must not make the consumer copy
// the same slot again as a later record, count it as peeked and release a lap past the head.
TEST_F(UntypedRingWindow, ABatchOfPeekMoreEndsAtTheLapWhateverTheHeadsSlotSays) {
    const std::string region = name();
    auto writer = shmrec::Ring<Checked>::writer(region, 4);
    auto reader = shmrec::untyped::ring_reader(region);
    std::vector<std::byte> out(8 * sizeof(Checked));
    for (std::uint64_t i = 0; i < 4; ++i) {
        ASSERT_EQ(writer.try_write(shmrec_test::make_checked(i)), WriteStatus::ok);
    }
    // 0-1 peeked; then a batch of 2, 3 and (slot 0, forged) "4".
    ASSERT_EQ(reader.try_peek_batch(first(out, 2)).count, 2u);
    forge_seq(region, 0, 4 + 1);
    const auto more = reader.try_peek_more(out);
    EXPECT_EQ(more.status, ReadStatus::ok);
    EXPECT_EQ(more.count, 2u) << "the batch ends at the lap (positions 2 and 3)";
    EXPECT_EQ(seqs(out, 2), (std::vector<std::uint64_t>{2, 3}));
    EXPECT_EQ(reader.peeked(), 4u);
    EXPECT_EQ(reader.release(100), 4u);
    EXPECT_EQ(reader.consumed(), 4u) << "never a lap past what the writer had room for";
}

TEST_F(UntypedRingWindow, AFullWindowFindsNothingMoreWhateverTheHeadsSlotSays) {
    const std::string region = name();
    auto writer = shmrec::Ring<Checked>::writer(region, 4);
    auto reader = shmrec::untyped::ring_reader(region);
    std::vector<std::byte> out(8 * sizeof(Checked));
    for (std::uint64_t i = 0; i < 4; ++i) {
        ASSERT_EQ(writer.try_write(shmrec_test::make_checked(i)), WriteStatus::ok);
    }
    ASSERT_EQ(reader.try_peek_batch(out).count, 4u);
    forge_seq(region, 0, 4 + 1);  // slot 0 (position 0, peeked) claims position 4
    // Its wait too, and at once: nothing can come before a release (it waited out its
    // timeout before).
    const auto asked = std::chrono::steady_clock::now();
    EXPECT_EQ(reader.peek_more(out, 30s).status, ReadStatus::empty);
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 10s);
    EXPECT_EQ(reader.try_peek_more(out).status, ReadStatus::empty);
    EXPECT_EQ(reader.peeked(), 4u);
    EXPECT_EQ(reader.release(100), 4u);
    EXPECT_EQ(reader.consumed(), 4u);
}

// A consumer asleep in peek_more waits for a position past the head (head + peeked): the
// writer's publish rings whenever the consumer is registered, whatever position it waits for,
// so the record wakes it at once, not at the end of a liveness slice (a bridge exporter would
// stall for that long). Guard for the handshake with a skip.
TEST_F(UntypedRingWindow, PeekMoreAsleepPastTheHeadIsWokenByTheNextRecord) {
    const std::string region = name();
    shmrec::WaitOptions wait;
    wait.spin_iterations = 0;
    wait.liveness_interval = std::chrono::milliseconds(10000);
    auto writer = shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 8,
                                               shmrec::OpenMode::create_only, {}, wait);
    auto reader = shmrec::untyped::ring_reader(region, {}, wait);
    std::vector<std::byte> out(8 * sizeof(Checked));
    ASSERT_EQ(writer.try_write_batch(records(0, 2)).count, 2u);
    ASSERT_EQ(reader.try_peek_batch(out).count, 2u);
    shmrec::BatchRead r{0, ReadStatus::timeout};
    double ms = 0;
    std::thread consumer([&] {
        const auto t0 = chantest::Clock::now();
        r = reader.peek_more(out, 20s);
        ms = chantest::ms_since(t0);
    });
    std::this_thread::sleep_for(200ms);  // asleep on position 2 by now
    ASSERT_EQ(writer.try_write_batch(records(2, 1)).count, 1u);
    consumer.join();
    EXPECT_EQ(r.status, ReadStatus::ok);
    ASSERT_EQ(r.count, 1u);
    EXPECT_EQ(seqs(out, 1), (std::vector<std::uint64_t>{2}));
    EXPECT_LT(ms, 3000.0) << "woken by the record, not by the 10 s liveness slice";
    EXPECT_EQ(reader.peeked(), 3u);
    EXPECT_EQ(reader.consumed(), 0u);
}

// A refused call changes nothing (untyped.hpp: "wrong_size ... nothing copied and no position
// moved"), and that includes the window: records peeked before a peek_batch with a wrong-sized
// buffer are still the ones release() consumes. Otherwise the caller, which sent them on,
// releases nothing and gets them again from its next peek_more (sent twice).
TEST_F(UntypedRingWindow, ARefusedPeekKeepsTheWindow) {
    const std::string region = name();
    auto writer = shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 8);
    auto reader = shmrec::untyped::ring_reader(region);
    std::vector<std::byte> out(8 * sizeof(Checked));
    std::vector<std::byte> odd(sizeof(Checked) + 1);
    ASSERT_EQ(writer.try_write_batch(records(0, 4)).count, 4u);
    ASSERT_EQ(reader.try_peek_batch(first(out, 2)).count, 2u);
    ASSERT_EQ(reader.try_peek_more(first(out, 1)).count, 1u);
    EXPECT_EQ(reader.try_peek_batch(odd).status, ReadStatus::wrong_size);
    EXPECT_EQ(reader.peek_batch(odd, 10ms).status, ReadStatus::wrong_size);
    EXPECT_EQ(reader.try_peek_more(odd).status, ReadStatus::wrong_size);
    EXPECT_EQ(reader.peek_more(odd, 10ms).status, ReadStatus::wrong_size);
    EXPECT_EQ(reader.peeked(), 3u);
    ASSERT_EQ(reader.try_peek_more(out).count, 1u);
    EXPECT_EQ(seqs(out, 1), (std::vector<std::uint64_t>{3}));
    EXPECT_EQ(reader.release(100), 4u);
    EXPECT_EQ(reader.consumed(), 4u);
}

// Any read replaces the window (untyped.hpp's contract), also one whose wait finds nothing.
// With the window's records still in their slots a read finds them, so only a hostile writer
// that takes the head's record back can make it wait in vain: release() must then consume
// none of the records the reader no longer holds as peeked.
TEST_F(UntypedRingWindow, AReadThatFindsNothingStillEndsTheWindow) {
    const std::string region = name();
    auto writer = shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 8);
    auto reader = shmrec::untyped::ring_reader(region);
    std::vector<std::byte> out(8 * sizeof(Checked));
    ASSERT_EQ(writer.try_write_batch(records(0, 2)).count, 2u);
    ASSERT_EQ(reader.try_peek_batch(out).count, 2u);
    forge_seq(region, 0, 0);  // slot 0 never written, as far as its seq says
    EXPECT_EQ(reader.read(first(out, 1), 10ms), ReadStatus::timeout);
    EXPECT_EQ(reader.peeked(), 0u);
    EXPECT_EQ(reader.release(2), 0u);

    ASSERT_EQ(reader.try_peek_batch(out).status, ReadStatus::empty);
    forge_seq(region, 0, 1);  // back
    ASSERT_EQ(reader.try_peek_batch(out).count, 2u);
    forge_seq(region, 0, 0);
    EXPECT_EQ(reader.read_batch(out, 10ms).status, ReadStatus::timeout);
    EXPECT_EQ(reader.peeked(), 0u);
    EXPECT_EQ(reader.release(2), 0u);
    EXPECT_EQ(reader.consumed(), 0u);
}

}  // namespace
