// Run-time-typed channels (untyped.hpp) in one process: a typed and an untyped end of the same
// cell or broadcast agree byte for byte, wrong span sizes are refused, a lapped untyped reader
// counts exactly what it lost, the ring observer's position rule (driven step by step: one
// thread, so every overwrite is forced, and ThreadSanitizer has nothing to object to), reader
// cursors and the ChannelMonitor's figures.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <atomic>
#include <thread>
#include <span>
#include <vector>

#include "channel_test_support.hpp"
#include "shm_file.hpp"
#include "shmrec/broadcast.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/ring.hpp"
#include "shmrec/untyped.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec_test::Checked;
using shmrec_test::make_checked;
using chantest::Clock;
using chantest::StreamCheck;

class Untyped : public shmrec_test::RegionFixture {};

std::span<const std::byte> bytes_of(const Checked& r) { return std::as_bytes(std::span(&r, 1)); }

Checked from_bytes(const std::vector<std::byte>& b) {
    Checked r{};
    EXPECT_EQ(b.size(), sizeof(Checked));
    std::memcpy(&r, b.data(), sizeof(Checked));
    return r;
}

bool same_bytes(const std::vector<std::byte>& b, const Checked& r) {
    return b.size() == sizeof(Checked) && std::memcmp(b.data(), &r, sizeof(Checked)) == 0;
}

// ---- record type -------------------------------------------------------------------------

TEST_F(Untyped, RecordTypeOfARegionIsTheTypedRecordsType) {
    const std::string region = name();
    auto writer = shmrec::Cell<Checked>::writer(region);
    const auto of_region = shmrec::RecordType::of(shmrec::inspect_region(region));
    const auto of_type = shmrec::RecordType::of<Checked>();
    EXPECT_EQ(of_region.name, of_type.name);
    EXPECT_EQ(of_region.size, sizeof(Checked));
    EXPECT_EQ(of_region.alignment, alignof(Checked));
    EXPECT_EQ(of_region.fingerprint, of_type.fingerprint);
    EXPECT_EQ(of_region.schema, of_type.schema);
    EXPECT_EQ(of_region.binary_schema, of_type.binary_schema);
}

TEST_F(Untyped, ImpossibleRecordTypeIsRefusedBeforeAnyRegionIsMade) {
    auto type = shmrec::RecordType::of<Checked>();
    type.alignment = 3;
    try {
        (void)shmrec::untyped::cell_writer(name(), type);
        ADD_FAILURE() << "an alignment of 3 was accepted";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::invalid_argument) << e.what();
    }
}

TEST_F(Untyped, UntypedReaderOfARingIsWrongKind) {
    const std::string region = name();
    auto writer = shmrec::Ring<Checked>::writer(region, 8);
    try {
        (void)shmrec::untyped::broadcast_reader(region);
        ADD_FAILURE() << "a ring opened as a broadcast";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::wrong_kind) << e.what();
    }
}

// ---- cell ---------------------------------------------------------------------------------

TEST_F(Untyped, TypedCellWriterUntypedReaderByteForByte) {
    const std::string region = name();
    auto writer = shmrec::Cell<Checked>::writer(region);
    auto reader = shmrec::untyped::cell_reader(region);
    ASSERT_EQ(reader.type().size, sizeof(Checked));
    ASSERT_EQ(reader.type().fingerprint, shmrec::RecordTraits<Checked>::fingerprint);
    std::vector<std::byte> out(reader.type().size);
    EXPECT_EQ(reader.try_read(out), ReadStatus::empty);
    for (std::uint64_t i = 1; i <= 5; ++i) {
        const Checked r = make_checked(i * 7);
        ASSERT_EQ(writer.try_write(r), WriteStatus::ok);
        ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
        EXPECT_TRUE(same_bytes(out, r)) << i;
        EXPECT_EQ(reader.try_read(out), ReadStatus::unchanged);
        EXPECT_EQ(reader.sequence(), i);
    }
    ASSERT_EQ(writer.try_write(make_checked(99)), WriteStatus::ok);
    ASSERT_EQ(reader.read(out, 1s), ReadStatus::ok);
    EXPECT_TRUE(same_bytes(out, make_checked(99)));
    EXPECT_EQ(reader.read(out, 10ms), ReadStatus::timeout);  // waits for a change
    writer.close();
    EXPECT_EQ(reader.read(out, 1s), ReadStatus::closed);
    EXPECT_TRUE(reader.closed());
}

TEST_F(Untyped, UntypedCellWriterTypedReaderByteForByte) {
    const std::string region = name();
    auto writer = shmrec::untyped::cell_writer(region, shmrec::RecordType::of<Checked>());
    auto reader = shmrec::Cell<Checked>::reader(region);  // validates name, size, fingerprint
    Checked out{};
    EXPECT_EQ(reader.try_read(out), ReadStatus::empty);
    for (std::uint64_t i = 0; i < 5; ++i) {
        const Checked r = make_checked(1000 + i);
        ASSERT_EQ(writer.try_write(bytes_of(r)), WriteStatus::ok);
        ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
        EXPECT_EQ(std::memcmp(&out, &r, sizeof(Checked)), 0) << i;
    }
    EXPECT_EQ(writer.written(), 5u);
    EXPECT_EQ(writer.type().name, shmrec::RecordTraits<Checked>::name);
}

TEST_F(Untyped, CellRefusesWrongSpanSizes) {
    const std::string region = name();
    auto writer = shmrec::untyped::cell_writer(region, shmrec::RecordType::of<Checked>());
    auto reader = shmrec::untyped::cell_reader(region);
    std::vector<std::byte> small(sizeof(Checked) - 1), big(sizeof(Checked) + 8),
        right(sizeof(Checked));
    EXPECT_EQ(writer.try_write(small), WriteStatus::wrong_size);
    EXPECT_EQ(writer.try_write(big), WriteStatus::wrong_size);
    EXPECT_EQ(writer.written(), 0u);  // nothing published
    const Checked r = make_checked(3);
    ASSERT_EQ(writer.try_write(bytes_of(r)), WriteStatus::ok);
    EXPECT_EQ(reader.try_read(small), ReadStatus::wrong_size);
    EXPECT_EQ(reader.read(big, 10ms), ReadStatus::wrong_size);
    EXPECT_EQ(reader.sequence(), 0u);  // nothing consumed by the refusals
    ASSERT_EQ(reader.try_read(right), ReadStatus::ok);
    EXPECT_TRUE(same_bytes(right, r));
}

// ---- broadcast ----------------------------------------------------------------------------

TEST_F(Untyped, TypedBroadcastWriterUntypedReaderByteForByte) {
    const std::string region = name();
    auto writer = shmrec::Broadcast<Checked>::writer(region, 64);
    auto reader = shmrec::untyped::broadcast_reader(region);
    EXPECT_EQ(reader.capacity(), 64u);
    std::vector<Checked> sent;
    for (std::uint64_t i = 0; i < 40; ++i) sent.push_back(make_checked(i));
    ASSERT_EQ(writer.try_write(std::span<const Checked>(sent)).count, sent.size());
    std::vector<std::byte> out(reader.type().size);
    for (const Checked& r : sent) {
        ASSERT_EQ(reader.read(out, 1s), ReadStatus::ok);
        EXPECT_TRUE(same_bytes(out, r)) << r.seq;
    }
    EXPECT_EQ(reader.try_read(out), ReadStatus::empty);
    EXPECT_EQ(reader.received(), 40u);
    EXPECT_EQ(reader.lost(), 0u);
    EXPECT_EQ(reader.position(), 40u);
}

TEST_F(Untyped, UntypedBroadcastWriterTypedReaderByteForByte) {
    const std::string region = name();
    auto writer =
        shmrec::untyped::broadcast_writer(region, shmrec::RecordType::of<Checked>(), 32);
    auto reader = shmrec::Broadcast<Checked>::reader(region);
    std::vector<std::byte> batch;
    for (std::uint64_t i = 0; i < 10; ++i) {
        const Checked r = make_checked(i);
        ASSERT_EQ(writer.try_write(bytes_of(r)), WriteStatus::ok);
    }
    for (std::uint64_t i = 10; i < 20; ++i) {
        const Checked r = make_checked(i);
        const auto b = bytes_of(r);
        batch.insert(batch.end(), b.begin(), b.end());
    }
    const auto w = writer.try_write_batch(batch);
    EXPECT_EQ(w.count, 10u);
    EXPECT_EQ(w.status, WriteStatus::ok);
    EXPECT_EQ(writer.written(), 20u);
    Checked out{};
    for (std::uint64_t i = 0; i < 20; ++i) {
        ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
        const Checked expected = make_checked(i);
        EXPECT_EQ(std::memcmp(&out, &expected, sizeof(Checked)), 0) << i;
    }
    writer.close();
    EXPECT_EQ(reader.read(out, 1s), ReadStatus::closed);
}

TEST_F(Untyped, BroadcastRefusesWrongSpanSizes) {
    const std::string region = name();
    auto writer =
        shmrec::untyped::broadcast_writer(region, shmrec::RecordType::of<Checked>(), 8);
    auto reader = shmrec::untyped::broadcast_reader(region);
    std::vector<std::byte> odd(sizeof(Checked) + 1);
    EXPECT_EQ(writer.try_write(odd), WriteStatus::wrong_size);
    EXPECT_EQ(writer.try_write_batch(odd).status, WriteStatus::wrong_size);
    EXPECT_EQ(writer.written(), 0u);
    ASSERT_EQ(writer.try_write(bytes_of(make_checked(0))), WriteStatus::ok);
    EXPECT_EQ(reader.try_read(odd), ReadStatus::wrong_size);
    EXPECT_EQ(reader.read(odd, 10ms), ReadStatus::wrong_size);
    EXPECT_EQ(reader.try_read_batch(odd).status, ReadStatus::wrong_size);
    EXPECT_EQ(reader.position(), 0u);  // nothing skipped by the refusals
    std::vector<std::byte> out(sizeof(Checked));
    EXPECT_EQ(reader.try_read(out), ReadStatus::ok);
}

TEST_F(Untyped, LappedUntypedBroadcastReaderCountsExactlyWhatItLost) {
    const std::string region = name();
    auto writer = shmrec::Broadcast<Checked>::writer(region, 8);
    auto reader = shmrec::untyped::broadcast_reader(region, shmrec::StartAt::oldest);
    ASSERT_EQ(reader.start_position(), 0u);
    for (std::uint64_t i = 0; i < 21; ++i) ASSERT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
    // Positions 0..12 are overwritten, and the slot of 13 is where the writer's next record
    // (21, at the published tail) goes: a reader cannot tell it intact, so 14..20 are read.
    std::vector<std::byte> out(sizeof(Checked));
    std::uint64_t expected = 14;
    while (reader.try_read(out) == ReadStatus::ok) {
        const Checked r = from_bytes(out);
        EXPECT_TRUE(shmrec_test::intact(r));
        EXPECT_EQ(r.seq, expected++);
    }
    EXPECT_EQ(expected, 21u);
    EXPECT_EQ(reader.lost(), 14u);
    EXPECT_EQ(reader.received(), 7u);
    EXPECT_EQ(reader.received() + reader.lost(), reader.position() - reader.start_position());
}

// ---- ring observer ------------------------------------------------------------------------

struct RingTrio {
    shmrec::Ring<Checked>::Writer writer;
    shmrec::Ring<Checked>::Reader consumer;
    shmrec::untyped::RingObserver observer;
    std::uint64_t next_write = 0;
    std::uint64_t next_consume = 0;

    RingTrio(const std::string& region, std::uint64_t capacity)
        : writer(shmrec::Ring<Checked>::writer(region, capacity)),
          consumer(shmrec::Ring<Checked>::reader(region)),
          observer(shmrec::untyped::ring_observer(region)) {}

    void write(std::uint64_t n) {
        for (std::uint64_t i = 0; i < n; ++i) {
            ASSERT_EQ(writer.try_write(make_checked(next_write++)), WriteStatus::ok);
        }
    }
    // The consumer always gets every record, in order, observer or not.
    void consume(std::uint64_t n) {
        for (std::uint64_t i = 0; i < n; ++i) {
            Checked r{};
            ASSERT_EQ(consumer.try_read(r), ReadStatus::ok);
            ASSERT_TRUE(shmrec_test::intact(r));
            ASSERT_EQ(r.seq, next_consume++);
        }
    }
    // Observes until empty; returns the seqs seen (each checked intact and at its position).
    std::vector<std::uint64_t> observe() {
        std::vector<std::uint64_t> seen;
        std::vector<std::byte> out(observer.type().size);
        for (;;) {
            const std::uint64_t before = observer.position();
            const std::uint64_t missed_before = observer.missed();
            const ReadStatus s = observer.try_read(out);
            if (s != ReadStatus::ok) {
                EXPECT_EQ(s, ReadStatus::empty);
                break;
            }
            const Checked r = from_bytes(out);
            EXPECT_TRUE(shmrec_test::intact(r));
            // The record at position p carries seq p (the writer started at 0).
            EXPECT_EQ(r.seq, before + (observer.missed() - missed_before));
            EXPECT_EQ(r.seq + 1, observer.position());
            seen.push_back(r.seq);
        }
        return seen;
    }
};

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
    std::vector<std::uint64_t> v;
    for (std::uint64_t i = first; i < last; ++i) v.push_back(i);
    return v;
}

TEST_F(Untyped, RingObserverSeesEveryRecordWhileItKeepsUpAndTakesNone) {
    RingTrio t(name(), 8);
    EXPECT_EQ(t.observer.type().size, sizeof(Checked));
    EXPECT_EQ(t.observer.start_position(), 0u);
    std::vector<std::uint64_t> seen;
    for (int round = 0; round < 10; ++round) {
        t.write(5);
        const auto got = t.observe();
        seen.insert(seen.end(), got.begin(), got.end());
        t.consume(5);  // never short: the observer took nothing
    }
    EXPECT_EQ(seen, range(0, 50));
    EXPECT_EQ(t.observer.missed(), 0u);
    EXPECT_EQ(t.observer.received(), 50u);
    EXPECT_EQ(t.consumer.consumed(), 50u);
}

TEST_F(Untyped, RingObserverReadsRecordsTheConsumerFreedUntilTheyAreOverwritten) {
    RingTrio t(name(), 8);
    t.write(8);
    t.consume(8);  // all consumed; slots still hold 0..7
    t.write(3);    // 8..10 overwrite slots of 0..2
    t.consume(3);
    // The observer (at 0) lost 0..2 and finds 3..10 intact.
    EXPECT_EQ(t.observe(), range(3, 11));
    EXPECT_EQ(t.observer.missed(), 3u);
    EXPECT_EQ(t.observer.received() + t.observer.missed(), t.observer.position());
}

TEST_F(Untyped, StoppedRingObserverCountsMissedExactly) {
    RingTrio t(name(), 8);
    t.write(8);
    std::vector<std::byte> out(sizeof(Checked));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(t.observer.try_read(out), ReadStatus::ok);  // 0..2
    // The observer stops; the writer laps it twice through the consumer.
    t.consume(8);
    t.write(8);
    t.consume(8);
    t.write(6);  // 16..21; slots now hold 16..21, 14, 15
    EXPECT_EQ(t.observe(), range(14, 22));
    // Positions 3..13 were overwritten before it copied them: exactly 11.
    EXPECT_EQ(t.observer.missed(), 11u);
    EXPECT_EQ(t.observer.received(), 11u);  // 0..2 and 14..21
    EXPECT_EQ(t.observer.position(), 22u);
    t.consume(6);
}

TEST_F(Untyped, RingObserverSkipsASlotClaimedByALoanAndWaitsForItsOwnPosition) {
    RingTrio t(name(), 8);
    t.write(8);
    t.consume(8);
    {
        auto loan = t.writer.try_loan();  // claims position 8: the slot of 0
        ASSERT_TRUE(loan);
        *loan = make_checked(8);
        // Record 0 is being overwritten: missed; 1..7 are intact; 8 is not committed yet.
        EXPECT_EQ(t.observe(), range(1, 8));
        EXPECT_EQ(t.observer.missed(), 1u);
        EXPECT_EQ(t.observer.position(), 8u);
        std::vector<std::byte> out(sizeof(Checked));
        EXPECT_EQ(t.observer.try_read(out), ReadStatus::empty);
        EXPECT_EQ(t.observer.position(), 8u);
        ASSERT_EQ(loan.commit(), WriteStatus::ok);
        ASSERT_EQ(t.observer.try_read(out), ReadStatus::ok);
        EXPECT_EQ(from_bytes(out).seq, 8u);
    }
    ++t.next_write;
    t.consume(1);
}

TEST_F(Untyped, RingObserverStartsAtTheConsumersPositionAndSeesTheClose) {
    const std::string region = name();
    auto writer = shmrec::Ring<Checked>::writer(region, 16);
    auto consumer = shmrec::Ring<Checked>::reader(region);
    for (std::uint64_t i = 0; i < 6; ++i) ASSERT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
    Checked r{};
    for (int i = 0; i < 4; ++i) ASSERT_EQ(consumer.try_read(r), ReadStatus::ok);
    auto observer = shmrec::untyped::ring_observer(region);
    EXPECT_EQ(observer.start_position(), 4u);
    std::vector<std::byte> out(sizeof(Checked));
    ASSERT_EQ(observer.read(out, 1s), ReadStatus::ok);
    EXPECT_EQ(from_bytes(out).seq, 4u);
    EXPECT_EQ(observer.try_read(std::span<std::byte>(out).first(8)), ReadStatus::wrong_size);
    ASSERT_EQ(observer.read(out, 1s), ReadStatus::ok);
    EXPECT_EQ(from_bytes(out).seq, 5u);
    EXPECT_EQ(observer.read(out, 20ms), ReadStatus::timeout);
    writer.close();
    EXPECT_EQ(observer.read(out, 1s), ReadStatus::closed);
    // The consumer still has its two records.
    ASSERT_EQ(consumer.try_read(r), ReadStatus::ok);
    EXPECT_EQ(r.seq, 4u);
}

TEST_F(Untyped, RingObserverOfACellIsWrongKind) {
    const std::string region = name();
    auto writer = shmrec::Cell<Checked>::writer(region);
    try {
        (void)shmrec::untyped::ring_observer(region);
        ADD_FAILURE() << "a cell observed as a ring";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::wrong_kind) << e.what();
    }
}

TEST_F(Untyped, RingObserverRefusesAFormat20RingWhoseWriterPublishesNoClaim) {
    const std::string region = name();
    auto writer = shmrec::Ring<Checked>::writer(region, 8);
    shmrec_test::poke_header(shmrec_test::shm_path(region),
                             [](shmrec::detail::RegionHeader& h, std::byte*, std::uint64_t) {
                                 h.format_minor = 0;
                             });
    try {
        (void)shmrec::untyped::ring_observer(region);
        ADD_FAILURE() << "a 2.0 ring observed";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::version_mismatch) << e.what();
        EXPECT_NE(std::string(e.what()).find("format 2.0"), std::string::npos) << e.what();
    }
}

// ---- ring writer and consumer -------------------------------------------------------------

// `count` Checked records from `first` on, back to back.
std::vector<std::byte> checked_bytes(std::uint64_t first, std::size_t count) {
    std::vector<std::byte> out(count * sizeof(Checked));
    for (std::size_t i = 0; i < count; ++i) {
        const Checked r = make_checked(first + i);
        std::memcpy(out.data() + i * sizeof(Checked), &r, sizeof(Checked));
    }
    return out;
}

// The seqs of the first `count` records of `bytes`, or ~0 for a record that is not intact.
std::vector<std::uint64_t> seqs_of(const std::vector<std::byte>& bytes, std::size_t count) {
    std::vector<std::uint64_t> out;
    for (std::size_t i = 0; i < count; ++i) {
        Checked r{};
        std::memcpy(&r, bytes.data() + i * sizeof(Checked), sizeof(Checked));
        out.push_back(shmrec_test::intact(r) ? r.seq : ~std::uint64_t{0});
    }
    return out;
}

TEST_F(Untyped, TypedRingWriterUntypedConsumerEveryRecord) {
    const std::string region = name();
    auto writer = shmrec::Ring<Checked>::writer(region, 8);
    auto reader = shmrec::untyped::ring_reader(region);
    ASSERT_EQ(reader.type().size, sizeof(Checked));
    EXPECT_EQ(reader.type().name, shmrec::RecordType::of<Checked>().name);
    EXPECT_EQ(reader.type().fingerprint, shmrec::RecordTraits<Checked>::fingerprint);
    EXPECT_EQ(reader.capacity(), 8u);
    EXPECT_TRUE(reader.writer_alive());
    std::vector<std::byte> one(sizeof(Checked));
    std::vector<std::byte> three(3 * sizeof(Checked));
    EXPECT_EQ(reader.try_read(one), ReadStatus::empty);
    EXPECT_EQ(reader.try_read_batch(three).status, ReadStatus::empty);
    // Five laps of the ring, read one at a time and in batches of three.
    std::vector<std::uint64_t> seen;
    std::uint64_t seq = 0;
    for (int round = 0; round < 8; ++round) {
        for (int i = 0; i < 5; ++i) ASSERT_EQ(writer.try_write(make_checked(seq++)), WriteStatus::ok);
        ASSERT_EQ(reader.read(one, 1s), ReadStatus::ok);
        const auto s1 = seqs_of(one, 1);
        seen.insert(seen.end(), s1.begin(), s1.end());
        while (true) {
            const auto r = reader.try_read_batch(three);
            if (r.status != ReadStatus::ok) {
                EXPECT_EQ(r.status, ReadStatus::empty);
                break;
            }
            const auto s = seqs_of(three, r.count);
            seen.insert(seen.end(), s.begin(), s.end());
        }
    }
    EXPECT_EQ(seen, range(0, 40));
    EXPECT_EQ(reader.consumed(), 40u);
    ASSERT_EQ(writer.try_write(make_checked(40)), WriteStatus::ok);
    const auto r = reader.read_batch(three, 1s);
    ASSERT_EQ(r.status, ReadStatus::ok);
    ASSERT_EQ(r.count, 1u);
    EXPECT_EQ(seqs_of(three, 1), range(40, 41));
    EXPECT_EQ(reader.read_batch(three, 10ms).status, ReadStatus::timeout);
    writer.close();
    EXPECT_EQ(reader.read_batch(three, 1s).status, ReadStatus::closed);
    EXPECT_EQ(reader.read(one, 1s), ReadStatus::closed);
    EXPECT_TRUE(reader.closed());
}

TEST_F(Untyped, UntypedRingWriterTypedConsumerEveryRecord) {
    const std::string region = name();
    auto writer = shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 8);
    auto reader = shmrec::Ring<Checked>::reader(region);  // validates name, size, fingerprint
    EXPECT_EQ(writer.capacity(), 8u);
    EXPECT_TRUE(writer.consumer_attached());
    EXPECT_TRUE(writer.consumer_alive());
    std::uint64_t seq = 0;
    // Single records, then batches that straddle the ring's end and overfill it.
    for (int i = 0; i < 3; ++i) ASSERT_EQ(writer.try_write(bytes_of(make_checked(seq++))), WriteStatus::ok);
    ASSERT_EQ(writer.write(bytes_of(make_checked(seq++)), 1s), WriteStatus::ok);
    const auto batch = checked_bytes(seq, 6);
    const auto b = writer.try_write_batch(batch);
    EXPECT_EQ(b.count, 4u);  // 4 slots free
    EXPECT_EQ(b.status, WriteStatus::full);
    seq += b.count;
    EXPECT_EQ(writer.try_write(bytes_of(make_checked(seq))), WriteStatus::full);
    EXPECT_EQ(writer.write(bytes_of(make_checked(seq)), 10ms), WriteStatus::timeout);
    EXPECT_EQ(writer.write_batch(checked_bytes(seq, 2), 10ms).status, WriteStatus::timeout);
    EXPECT_EQ(writer.written(), 8u);
    StreamCheck check;
    Checked r{};
    for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(reader.try_read(r), ReadStatus::ok);
        check.see(r);
    }
    for (int round = 0; round < 4; ++round) {
        const auto w = writer.write_batch(checked_bytes(seq, 5), 1s);
        ASSERT_EQ(w.status, WriteStatus::ok);
        ASSERT_EQ(w.count, 5u);
        seq += 5;
        for (int i = 0; i < 5; ++i) {
            ASSERT_EQ(reader.try_read(r), ReadStatus::ok);
            check.see(r);
        }
    }
    EXPECT_EQ(reader.try_read(r), ReadStatus::empty);
    EXPECT_EQ(check.count, 28u);
    EXPECT_EQ(check.bad, 0u);
    EXPECT_EQ(check.out_of_order, 0u);
    EXPECT_EQ(writer.written(), 28u);
    EXPECT_EQ(writer.drain(1s), WriteStatus::ok);
    writer.close();
    EXPECT_EQ(reader.try_read(r), ReadStatus::closed);
}

// A region made by the untyped writer describes itself exactly as one made by Ring<T>::writer,
// and each writer takes over the other's ring (open_only) and continues its stream.
TEST_F(Untyped, UntypedAndTypedRingWritersMakeTheSameRegion) {
    const std::string typed_name = name("typed");
    const std::string untyped_name = name("untyped");
    auto typed = shmrec::Ring<Checked>::writer(typed_name, 16);
    auto untyped = shmrec::untyped::ring_writer(untyped_name, shmrec::RecordType::of<Checked>(), 16);
    const auto a = shmrec::inspect_region(typed_name);
    const auto b = shmrec::inspect_region(untyped_name);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.format_major, b.format_major);
    EXPECT_EQ(a.format_minor, b.format_minor);
    EXPECT_EQ(a.record_name, b.record_name);
    EXPECT_EQ(a.record_size, b.record_size);
    EXPECT_EQ(a.record_alignment, b.record_alignment);
    EXPECT_EQ(a.fingerprint, b.fingerprint);
    EXPECT_EQ(a.schema, b.schema);
    EXPECT_EQ(a.binary_schema, b.binary_schema);
    EXPECT_EQ(a.geometry.mapped_size, b.geometry.mapped_size);
    EXPECT_EQ(a.geometry.data_offset, b.geometry.data_offset);
    EXPECT_EQ(a.geometry.data_size, b.geometry.data_size);
    EXPECT_EQ(a.geometry.capacity, b.geometry.capacity);

    // Swap writers: each takes the other's ring over and continues after its records (the
    // consumers keep the regions alive meanwhile).
    auto r1 = shmrec::untyped::ring_reader(untyped_name);
    auto r2 = shmrec::Ring<Checked>::reader(typed_name);
    ASSERT_EQ(typed.try_write(make_checked(0)), WriteStatus::ok);
    ASSERT_EQ(untyped.try_write(bytes_of(make_checked(0))), WriteStatus::ok);
    {
        auto t = std::move(typed);
        auto u = std::move(untyped);
    }  // both gone: the writer roles are free
    auto typed_on_untyped = shmrec::Ring<Checked>::writer(untyped_name, 0, shmrec::OpenMode::open_only);
    auto untyped_on_typed = shmrec::untyped::ring_writer(typed_name, shmrec::RecordType::of<Checked>(),
                                                         0, shmrec::OpenMode::open_only);
    EXPECT_EQ(typed_on_untyped.written(), 1u);
    EXPECT_EQ(untyped_on_typed.written(), 1u);
    ASSERT_EQ(typed_on_untyped.try_write(make_checked(1)), WriteStatus::ok);
    ASSERT_EQ(untyped_on_typed.try_write(bytes_of(make_checked(1))), WriteStatus::ok);
    std::vector<std::byte> two(2 * sizeof(Checked));
    ASSERT_EQ(r1.try_read_batch(two).count, 2u);
    EXPECT_EQ(seqs_of(two, 2), range(0, 2));
    Checked c{};
    ASSERT_EQ(r2.try_read(c), ReadStatus::ok);
    EXPECT_EQ(c.seq, 0u);
    ASSERT_EQ(r2.try_read(c), ReadStatus::ok);
    EXPECT_EQ(c.seq, 1u);
}

// A writer that died between committing its records (seq) and publishing the tail (a batch's
// step 4) leaves them delivered: the writer taking over, typed or untyped, continues after
// them, never rewriting one. Simulated in one thread: the tail is put back to before the last
// two commits, as the dead writer left it.
TEST_F(Untyped, RingWriterTakingOverATypedOrUntypedRingContinuesAfterCommitsPastTheTail) {
    for (const bool typed_first : {true, false}) {
        SCOPED_TRACE(typed_first ? "typed, then untyped" : "untyped, then typed");
        const std::string region = name(typed_first ? "typed" : "untyped");
        {
            std::optional<shmrec::Ring<Checked>::Writer> t;
            std::optional<shmrec::untyped::RingWriter> u;
            if (typed_first) {
                t.emplace(shmrec::Ring<Checked>::writer(region, 8));
                for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(t->try_write(make_checked(i)), WriteStatus::ok);
            } else {
                u.emplace(shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 8));
                for (std::uint64_t i = 0; i < 3; ++i) {
                    ASSERT_EQ(u->try_write(bytes_of(make_checked(i))), WriteStatus::ok);
                }
            }
            const shmrec::Region& r = typed_first ? t->region() : u->region();
            shmrec::detail::RingView<Checked>(r).control->tail.store(1);
            shmrec_test::keep_alive(region);  // Windows: the object outlives the writer
        }  // gone (closed: a replacement reopens the ring)
        auto next = shmrec::untyped::ring_reader(region);
        std::vector<std::byte> out(8 * sizeof(Checked));
        if (typed_first) {
            auto w = shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 0,
                                                  shmrec::OpenMode::open_only);
            EXPECT_EQ(w.written(), 3u);
            ASSERT_EQ(w.try_write(bytes_of(make_checked(3))), WriteStatus::ok);
            const auto b = next.try_read_batch(out);
            ASSERT_EQ(b.count, 4u);
            EXPECT_EQ(seqs_of(out, 4), range(0, 4));
        } else {
            auto w = shmrec::Ring<Checked>::writer(region, 0, shmrec::OpenMode::open_only);
            EXPECT_EQ(w.written(), 3u);
            ASSERT_EQ(w.try_write(make_checked(3)), WriteStatus::ok);
            const auto b = next.try_read_batch(out);
            ASSERT_EQ(b.count, 4u);
            EXPECT_EQ(seqs_of(out, 4), range(0, 4));
        }
    }
}

TEST_F(Untyped, RingRefusesWrongSpanSizes) {
    const std::string region = name();
    auto writer = shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 8);
    auto reader = shmrec::untyped::ring_reader(region);
    const auto rec = make_checked(1);
    const auto two = checked_bytes(0, 2);
    EXPECT_EQ(writer.try_write(bytes_of(rec).first(8)), WriteStatus::wrong_size);
    EXPECT_EQ(writer.write(std::span<const std::byte>(two), 1s), WriteStatus::wrong_size);
    EXPECT_EQ(writer.try_write_batch(std::span(two).first(sizeof(Checked) + 8)).status,
              WriteStatus::wrong_size);
    EXPECT_EQ(writer.write_batch(std::span(two).first(sizeof(Checked) - 1), 1s).status,
              WriteStatus::wrong_size);
    EXPECT_EQ(writer.written(), 0u);  // nothing written
    ASSERT_EQ(writer.try_write_batch(two).count, 2u);

    std::vector<std::byte> odd(sizeof(Checked) + 1);
    EXPECT_EQ(reader.try_read(odd), ReadStatus::wrong_size);
    EXPECT_EQ(reader.read(odd, 1s), ReadStatus::wrong_size);
    EXPECT_EQ(reader.try_read_batch(odd).status, ReadStatus::wrong_size);
    EXPECT_EQ(reader.read_batch(odd, 1s).status, ReadStatus::wrong_size);
    EXPECT_EQ(reader.try_peek_batch(odd).status, ReadStatus::wrong_size);
    EXPECT_EQ(reader.peek_batch(odd, 1s).status, ReadStatus::wrong_size);
    EXPECT_EQ(reader.consumed(), 0u);  // nothing consumed
    EXPECT_EQ(reader.release(1), 0u);  // nothing peeked
    std::vector<std::byte> out(2 * sizeof(Checked));
    const auto r = reader.try_read_batch(out);
    ASSERT_EQ(r.count, 2u);
    EXPECT_EQ(seqs_of(out, 2), range(0, 2));
    // An empty batch is no error and moves nothing.
    EXPECT_EQ(reader.try_read_batch({}).status, ReadStatus::ok);
    EXPECT_EQ(writer.try_write_batch({}).status, WriteStatus::ok);
}

TEST_F(Untyped, UntypedRingHandlesOfABroadcastAreWrongKind) {
    const std::string region = name();
    auto writer = shmrec::Broadcast<Checked>::writer(region, 8);
    try {
        (void)shmrec::untyped::ring_reader(region);
        ADD_FAILURE() << "a broadcast opened as a ring's consumer";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::wrong_kind) << e.what();
    }
}

TEST_F(Untyped, RingConsumerRoleIsExclusiveAcrossTypedAndUntyped) {
    const std::string region = name();
    auto writer = shmrec::Ring<Checked>::writer(region, 8);
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
    {
        auto typed = shmrec::Ring<Checked>::reader(region);
        try {
            (void)shmrec::untyped::ring_reader(region);
            ADD_FAILURE() << "a second consumer attached";
        } catch (const shmrec::Error& e) {
            EXPECT_EQ(e.code(), shmrec::ErrorCode::reader_active) << e.what();
        }
        Checked r{};
        ASSERT_EQ(typed.try_read(r), ReadStatus::ok);
    }
    {
        auto untyped = shmrec::untyped::ring_reader(region);
        EXPECT_EQ(untyped.consumed(), 1u);  // continues at the head
        try {
            (void)shmrec::Ring<Checked>::reader(region);
            ADD_FAILURE() << "a second consumer attached";
        } catch (const shmrec::Error& e) {
            EXPECT_EQ(e.code(), shmrec::ErrorCode::reader_active) << e.what();
        }
        try {
            (void)shmrec::untyped::ring_reader(region);
            ADD_FAILURE() << "a second untyped consumer attached";
        } catch (const shmrec::Error& e) {
            EXPECT_EQ(e.code(), shmrec::ErrorCode::reader_active) << e.what();
        }
        std::vector<std::byte> one(sizeof(Checked));
        ASSERT_EQ(untyped.try_read(one), ReadStatus::ok);
        EXPECT_EQ(seqs_of(one, 1), range(1, 2));
    }
    auto next = shmrec::Ring<Checked>::reader(region);
    EXPECT_EQ(next.consumed(), 2u);
}

// peek copies without consuming; release(k) consumes the first k of them; the writer gets room
// only from a release.
TEST_F(Untyped, RingPeekWithoutReleaseConsumesNothingAndReleaseGivesTheWriterRoom) {
    const std::string region = name();
    auto writer = shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 8);
    auto reader = shmrec::untyped::ring_reader(region);
    std::vector<std::byte> out(8 * sizeof(Checked));
    EXPECT_EQ(reader.try_peek_batch(out).status, ReadStatus::empty);
    EXPECT_EQ(reader.peek_batch(out, 10ms).status, ReadStatus::timeout);
    ASSERT_EQ(writer.write_batch(checked_bytes(0, 8), 1s).count, 8u);
    EXPECT_EQ(writer.try_write(bytes_of(make_checked(8))), WriteStatus::full);

    auto r = reader.try_peek_batch(std::span(out).first(5 * sizeof(Checked)));
    ASSERT_EQ(r.status, ReadStatus::ok);
    ASSERT_EQ(r.count, 5u);
    EXPECT_EQ(seqs_of(out, 5), range(0, 5));
    EXPECT_EQ(reader.consumed(), 0u);
    EXPECT_EQ(reader.peeked(), 5u);
    // A second peek returns the same records (and more, with a bigger buffer).
    std::fill(out.begin(), out.end(), std::byte{0});
    r = reader.peek_batch(out, 1s);
    ASSERT_EQ(r.count, 8u);
    EXPECT_EQ(seqs_of(out, 8), range(0, 8));
    EXPECT_EQ(reader.consumed(), 0u);
    // Still no room: peeking holds the slots.
    EXPECT_EQ(writer.try_write(bytes_of(make_checked(8))), WriteStatus::full);
    EXPECT_EQ(writer.write(bytes_of(make_checked(8)), 10ms), WriteStatus::timeout);

    // release(3): records 0..2 consumed, room for three; the next peek starts at 3.
    EXPECT_EQ(reader.release(3), 3u);
    EXPECT_EQ(reader.consumed(), 3u);
    EXPECT_EQ(reader.peeked(), 5u);
    const auto w = writer.try_write_batch(checked_bytes(8, 4));
    EXPECT_EQ(w.count, 3u);
    EXPECT_EQ(w.status, WriteStatus::full);
    r = reader.try_peek_batch(std::span(out).first(2 * sizeof(Checked)));
    ASSERT_EQ(r.count, 2u);
    EXPECT_EQ(seqs_of(out, 2), range(3, 5));
    // release is clamped to what the last peek copied and not yet released.
    EXPECT_EQ(reader.release(1), 1u);
    EXPECT_EQ(reader.release(100), 1u);
    EXPECT_EQ(reader.release(1), 0u);
    EXPECT_EQ(reader.consumed(), 5u);
    // A read replaces the peek: release() consumes nothing afterwards.
    r = reader.try_peek_batch(std::span(out).first(2 * sizeof(Checked)));
    ASSERT_EQ(r.count, 2u);
    EXPECT_EQ(seqs_of(out, 2), range(5, 7));
    std::vector<std::byte> one(sizeof(Checked));
    ASSERT_EQ(reader.try_read(one), ReadStatus::ok);
    EXPECT_EQ(seqs_of(one, 1), range(5, 6));
    EXPECT_EQ(reader.release(2), 0u);
    EXPECT_EQ(reader.consumed(), 6u);
    r = reader.try_read_batch(out);
    ASSERT_EQ(r.count, 5u);
    EXPECT_EQ(seqs_of(out, 5), range(6, 11));
    EXPECT_EQ(reader.consumed(), 11u);
    // After close, a peek returns what is left, then closed.
    ASSERT_EQ(writer.try_write(bytes_of(make_checked(11))), WriteStatus::ok);
    writer.close();
    r = reader.try_peek_batch(out);
    ASSERT_EQ(r.count, 1u);
    EXPECT_EQ(reader.release(1), 1u);
    EXPECT_EQ(reader.try_peek_batch(out).status, ReadStatus::closed);
    EXPECT_EQ(reader.peek_batch(out, 1s).status, ReadStatus::closed);
    EXPECT_EQ(reader.release(1), 0u);
}

// A hostile writer's seq claiming a position a lap (or more) past the consumer's is `corrupt`
// for peek and read alike: a batch ends before it, and nothing past it is copied or consumed.
TEST_F(Untyped, RingPeekOfASlotClaimingAPositionALapAheadIsCorrupt) {
    const std::string region = name();
    auto writer = shmrec::Ring<Checked>::writer(region, 8);
    auto reader = shmrec::untyped::ring_reader(region);
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
    // Slot 3 (position 3, not written yet) claims position 3 + 8: committed a lap ahead.
    shmrec_test::poke_header(shmrec_test::shm_path(region),
                             [](shmrec::detail::RegionHeader& h, std::byte* base, std::uint64_t) {
                                 auto* slot = base + h.data_offset + sizeof(shmrec::detail::RingControl) +
                                              3 * h.slot_stride;
                                 reinterpret_cast<std::atomic<std::uint64_t>*>(slot)->store(3 + 8 + 1);
                             });
    std::vector<std::byte> out(8 * sizeof(Checked));
    auto r = reader.try_peek_batch(out);
    ASSERT_EQ(r.status, ReadStatus::ok);
    EXPECT_EQ(r.count, 3u);  // ends before the forged slot
    EXPECT_EQ(seqs_of(out, 3), range(0, 3));
    EXPECT_EQ(reader.release(3), 3u);
    EXPECT_EQ(reader.try_peek_batch(out).status, ReadStatus::corrupt);
    EXPECT_EQ(reader.peek_batch(out, 1s).status, ReadStatus::corrupt);
    EXPECT_EQ(reader.try_read_batch(out).status, ReadStatus::corrupt);
    EXPECT_EQ(reader.release(1), 0u);
    EXPECT_EQ(reader.consumed(), 3u);
}

// A release wakes a writer asleep for room (the doorbell handshake towards the writer).
TEST_F(Untyped, RingReleaseWakesAWriterWaitingForRoom) {
    const std::string region = name();
    shmrec::WaitOptions wait;
    wait.spin_iterations = 0;
    auto writer = shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 4,
                                               shmrec::OpenMode::create_only, {}, wait);
    auto reader = shmrec::untyped::ring_reader(region, {}, wait);
    ASSERT_EQ(writer.write_batch(checked_bytes(0, 4), 1s).count, 4u);
    std::vector<std::byte> out(4 * sizeof(Checked));
    ASSERT_EQ(reader.try_peek_batch(out).count, 4u);
    shmrec::BatchWrite w{0, WriteStatus::timeout};
    std::thread blocked([&] { w = writer.write_batch(checked_bytes(4, 2), 10s); });
    std::this_thread::sleep_for(50ms);
    const auto before = Clock::now();
    EXPECT_EQ(reader.release(4), 4u);
    blocked.join();
    EXPECT_EQ(w.status, WriteStatus::ok);
    EXPECT_EQ(w.count, 2u);
    EXPECT_LT(chantest::ms_since(before), 5000.0);
    const auto r = reader.try_read_batch(out);
    ASSERT_EQ(r.count, 2u);
    EXPECT_EQ(seqs_of(out, 2), range(4, 6));
}

// Untyped writer and consumer on two threads over a 16-slot ring, with write_batch and
// peek_batch/release in uneven pieces (the ThreadSanitizer target for the two-step consume):
// every record once, in order, intact.
TEST_F(Untyped, RingWriteBatchPeekReleaseThreadsDeliverEveryRecordOnceInOrder) {
    const std::string region = name();
    constexpr std::uint64_t records = shmrec_test::under_sanitizer ? 20'000 : 200'000;
    auto writer = shmrec::untyped::ring_writer(region, shmrec::RecordType::of<Checked>(), 16);
    auto reader = shmrec::untyped::ring_reader(region);
    WriteStatus wstatus = WriteStatus::ok;
    std::thread producer([&] {
        std::uint64_t seq = 0;
        std::size_t size = 1;
        while (seq < records && wstatus == WriteStatus::ok) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, records - seq));
            const auto w = writer.write_batch(checked_bytes(seq, n), 10s);
            seq += w.count;
            wstatus = w.status;
            size = size % 23 + 1;  // 1..23: batches shorter and longer than the ring
        }
        writer.close();
    });
    StreamCheck check;
    std::vector<std::byte> out(12 * sizeof(Checked));
    ReadStatus end = ReadStatus::ok;
    std::size_t turn = 0;
    for (;;) {
        const auto r = reader.peek_batch(out, 10s);
        if (r.status != ReadStatus::ok) {
            end = r.status;
            break;
        }
        // Release the peeked records in one or two pieces; on every third turn only part of
        // them, so the rest is peeked again (and must come again, the same) next turn.
        const std::size_t first = (turn % 2 == 0) ? r.count : (r.count + 1) / 2;
        const std::size_t take = (turn % 3 == 2) ? first : r.count;
        for (std::size_t i = 0; i < take; ++i) {
            Checked c{};
            std::memcpy(&c, out.data() + i * sizeof(Checked), sizeof(Checked));
            check.see(c);
        }
        std::size_t released = reader.release(first);
        if (take > first) released += reader.release(take - first);
        if (released != take) {
            ADD_FAILURE() << "released " << released << " of " << take;
            break;
        }
        ++turn;
    }
    producer.join();
    EXPECT_EQ(wstatus, WriteStatus::ok);
    EXPECT_EQ(end, ReadStatus::closed);
    EXPECT_EQ(check.count, records);
    EXPECT_EQ(check.bad, 0u) << "first bad seq " << check.first_bad_seq;
    EXPECT_EQ(check.out_of_order, 0u) << "first out-of-order seq " << check.first_bad_seq;
    EXPECT_EQ(reader.consumed(), records);
}

// ---- monitor and cursors ------------------------------------------------------------------

const shmrec::ReaderState* find_slot(const shmrec::ChannelState& s, std::uint32_t slot) {
    for (const auto& r : s.readers) {
        if (r.slot == slot) return &r;
    }
    return nullptr;
}

TEST_F(Untyped, MonitorReportsRingPositions) {
    const std::string region = name();
    auto writer = shmrec::Ring<Checked>::writer(region, 16);
    auto consumer = shmrec::Ring<Checked>::reader(region);
    for (std::uint64_t i = 0; i < 10; ++i) ASSERT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
    Checked r{};
    for (int i = 0; i < 4; ++i) ASSERT_EQ(consumer.try_read(r), ReadStatus::ok);
    auto monitor = shmrec::ChannelMonitor::open(region);
    EXPECT_EQ(monitor.info().kind, shmrec::ChannelKind::ring);
    EXPECT_TRUE(monitor.writer_alive());
    auto s = monitor.state();
    EXPECT_EQ(s.kind, shmrec::ChannelKind::ring);
    EXPECT_EQ(s.capacity, 16u);
    EXPECT_EQ(s.written, 10u);
    EXPECT_EQ(s.oldest, 4u);
    EXPECT_FALSE(s.writer_waiting);
    EXPECT_FALSE(s.consumer_waiting);
    EXPECT_TRUE(s.readers.empty());
    for (int i = 0; i < 6; ++i) ASSERT_EQ(consumer.try_read(r), ReadStatus::ok);
    s = monitor.state();
    EXPECT_EQ(s.oldest, 10u);
    { auto gone = std::move(writer); }
    EXPECT_FALSE(monitor.writer_alive());
}

TEST_F(Untyped, BroadcastReaderCursorsShowOnTheMonitorAndGoWithTheReader) {
    const std::string region = name();
    auto writer = shmrec::Broadcast<Checked>::writer(region, 16);
    auto typed = shmrec::Broadcast<Checked>::reader(region);
    auto untyped = shmrec::untyped::broadcast_reader(region);
    auto monitor = shmrec::ChannelMonitor::open(region);
    auto s = monitor.state();
    EXPECT_EQ(s.kind, shmrec::ChannelKind::broadcast);
    EXPECT_TRUE(s.cursors);
    ASSERT_EQ(s.readers.size(), 2u);
    const std::uint32_t typed_slot = s.readers[0].slot;
    const std::uint32_t untyped_slot = s.readers[1].slot;
    EXPECT_EQ(s.readers[0].received, 0u);

    for (std::uint64_t i = 0; i < 24; ++i) ASSERT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
    Checked r{};
    for (int i = 0; i < 5; ++i) ASSERT_EQ(typed.try_read(r), ReadStatus::ok);  // lapped first
    std::vector<std::byte> out(sizeof(Checked));
    std::vector<std::byte> batch(3 * sizeof(Checked));
    EXPECT_EQ(untyped.try_read_batch(batch).count, 3u);
    s = monitor.state();
    EXPECT_EQ(s.written, 24u);
    EXPECT_EQ(s.oldest, 8u);
    const auto* t = find_slot(s, typed_slot);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->position, typed.position());
    EXPECT_EQ(t->received, 5u);
    EXPECT_EQ(t->lost, typed.lost());
    EXPECT_EQ(t->lost, 9u);  // 0..8: position 8's slot may be under the writer (tail 24)
    EXPECT_EQ(t->position, 14u);
    EXPECT_FALSE(t->waiting);
    const auto* u = find_slot(s, untyped_slot);
    ASSERT_NE(u, nullptr);
    EXPECT_EQ(u->received, 3u);
    EXPECT_EQ(u->position, untyped.position());

    // An empty poll publishes nothing new, and changes nothing.
    while (typed.try_read(r) == ReadStatus::ok) {
    }
    EXPECT_EQ(typed.try_read(r), ReadStatus::empty);
    s = monitor.state();
    EXPECT_EQ(find_slot(s, typed_slot)->position, 24u);
    EXPECT_EQ(find_slot(s, typed_slot)->received, 15u);

    {
        auto gone = std::move(untyped);  // the handle that holds the slot ends here
    }
    s = monitor.state();
    ASSERT_EQ(s.readers.size(), 1u);
    EXPECT_EQ(s.readers[0].slot, typed_slot);
    EXPECT_EQ(find_slot(s, untyped_slot), nullptr);
}

TEST_F(Untyped, CellReaderCursorsShowTheLatestRecordRead) {
    const std::string region = name();
    auto writer = shmrec::untyped::cell_writer(region, shmrec::RecordType::of<Checked>());
    auto reader = shmrec::Cell<Checked>::reader(region);
    auto monitor = shmrec::ChannelMonitor::open(region);
    for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(writer.try_write(bytes_of(make_checked(i))), WriteStatus::ok);
    Checked r{};
    ASSERT_EQ(reader.try_read(r), ReadStatus::ok);  // record 4
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_EQ(writer.try_write(bytes_of(make_checked(i))), WriteStatus::ok);
    ASSERT_EQ(reader.try_read(r), ReadStatus::ok);  // record 7: 5 and 6 never seen
    EXPECT_EQ(reader.try_read(r), ReadStatus::unchanged);
    const auto s = monitor.state();
    EXPECT_EQ(s.kind, shmrec::ChannelKind::cell);
    EXPECT_EQ(s.written, 7u);
    ASSERT_EQ(s.readers.size(), 1u);
    EXPECT_EQ(s.readers[0].position, 7u);
    EXPECT_EQ(s.readers[0].received, 2u);
    EXPECT_EQ(s.readers[0].lost, 2u);
}

TEST_F(Untyped, MonitorShowsAReaderAsleepOnTheDoorbell) {
    const std::string region = name();
    auto writer = shmrec::Broadcast<Checked>::writer(region, 16);
    auto monitor = shmrec::ChannelMonitor::open(region);
    std::atomic<bool> done{false};
    std::thread sleeper([&] {
        shmrec::WaitOptions wait;
        wait.spin_iterations = 0;
        auto reader = shmrec::untyped::broadcast_reader(region, shmrec::StartAt::oldest, {}, wait);
        std::vector<std::byte> out(sizeof(Checked));
        while (!done.load()) (void)reader.read(out, 50ms);
    });
    bool seen_waiting = false;
    for (int i = 0; i < 500 && !seen_waiting; ++i) {
        const auto s = monitor.state();
        seen_waiting = s.readers.size() == 1 && s.readers[0].waiting;
        std::this_thread::sleep_for(2ms);
    }
    done = true;
    sleeper.join();
    EXPECT_TRUE(seen_waiting);
}

}  // namespace
