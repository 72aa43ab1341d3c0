// untyped::ByteRingObserver: a byte ring's messages copied without consuming them. Step by step
// (what it sees of the consumer's backlog, of frames the consumer freed, of frames reused
// before it looked, padding, the close), against forged rings (never a read out of bounds,
// never an endless call), and concurrently with a writer thread and a consumer thread, every
// copied byte compared with what the writer wrote.
//
// ThreadSanitizer: the byte ring writer stores a frame's size, sequence and payload with plain
// stores (ByteRingWriter::commit_frame, try_write's memcpy) while the observer loads them as
// relaxed atomic words, so TSan reports the concurrent test as a race even though every copy
// that overlapped a write is discarded (the claimed check). It skips itself under TSan until
// the writer stores those bytes with detail::store_words.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "byte_messages.hpp"
#include "channel_test_support.hpp"
#include "shmrec/byte_ring.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/untyped.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ByteRing;
using shmrec::ReadStatus;
using shmrec::StartAt;
using shmrec::WriteStatus;
namespace d = shmrec::detail;

using bytetest::frame_type;
using bytetest::is_message;
using bytetest::make_message;
std::size_t message_size(std::uint64_t k, std::size_t max) {
    return bytetest::size_of(k, max, true);
}

#if defined(__SANITIZE_THREAD__)
constexpr bool under_tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool under_tsan = true;
#else
constexpr bool under_tsan = false;
#endif
#else
constexpr bool under_tsan = false;
#endif

class ByteRingObserverTest : public shmrec_test::RegionFixture {};

TEST_F(ByteRingObserverTest, CopiesTheConsumersBacklogAndTakesNothing) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 256);
    auto r = ByteRing::reader(n, frame_type);
    for (std::uint64_t k = 0; k < 4; ++k) {
        ASSERT_EQ(w.try_write(make_message(k, 10 * k)), WriteStatus::ok);
    }
    std::vector<std::byte> got;
    ASSERT_EQ(r.try_read(got), ReadStatus::ok);  // message 0 taken

    auto o = shmrec::untyped::byte_ring_observer(n);
    EXPECT_EQ(o.type().name, "test.Frame");
    EXPECT_EQ(o.capacity(), 256u);
    EXPECT_EQ(o.start_sequence(), 1u);
    for (std::uint64_t k = 1; k < 4; ++k) {
        ASSERT_EQ(o.try_read(got), ReadStatus::ok) << k;
        EXPECT_EQ(o.sequence(), k);
        EXPECT_TRUE(is_message(got, k, 10 * k)) << k;
    }
    EXPECT_EQ(o.try_read(got), ReadStatus::empty);
    EXPECT_EQ(o.received(), 3u);
    EXPECT_EQ(o.missed(), 0u);

    // The consumer still gets every one of them.
    for (std::uint64_t k = 1; k < 4; ++k) {
        ASSERT_EQ(r.try_read(got), ReadStatus::ok);
        EXPECT_TRUE(is_message(got, k, 10 * k)) << k;
    }
    // From the newest: only what comes after.
    auto newest = shmrec::untyped::byte_ring_observer(n, StartAt::newest);
    EXPECT_EQ(newest.try_read(got), ReadStatus::empty);
    ASSERT_EQ(w.try_write(make_message(4, 3)), WriteStatus::ok);
    ASSERT_EQ(newest.try_read(got), ReadStatus::ok);
    EXPECT_EQ(newest.sequence(), 4u);
    EXPECT_TRUE(is_message(got, 4, 3));
    ASSERT_EQ(o.try_read(got), ReadStatus::ok);
    EXPECT_EQ(o.sequence(), 4u);
}

// Frames of every size and payload offset, across padding and many laps, while the observer
// keeps up: it copies every message (the consumer freed them, the writer has not reused them).
TEST_F(ByteRingObserverTest, KeepingUpItCopiesEveryMessageAcrossPaddingAndLaps) {
    const std::string n = name();
    constexpr std::uint64_t capacity = 512;
    auto w = ByteRing::writer(n, frame_type, capacity);
    auto r = ByteRing::reader(n, frame_type);
    auto o = shmrec::untyped::byte_ring_observer(n);
    const std::size_t max = ByteRing::max_message(capacity);
    std::vector<std::byte> got;
    for (std::uint64_t k = 0; k < 2000; ++k) {
        const std::size_t size = k % (max + 1);
        if (k % 2 == 0) {
            ASSERT_EQ(w.try_write(make_message(k, size)), WriteStatus::ok) << k;
        } else {  // in place, at an 8-unaligned offset when the loan allows it
            auto loan = w.try_loan(size);
            ASSERT_TRUE(loan) << k;
            const std::size_t offset = (loan.buffer().size() - size) / 2;
            if (size != 0) {
                std::memcpy(loan.buffer().data() + offset, make_message(k, size).data(), size);
            }
            ASSERT_EQ(loan.commit(size, offset), WriteStatus::ok) << k;
        }
        ASSERT_EQ(r.try_read(got), ReadStatus::ok) << k;  // consumed first: the observer lags it
        ASSERT_EQ(o.try_read(got), ReadStatus::ok) << k;
        ASSERT_EQ(o.sequence(), k);
        ASSERT_TRUE(is_message(got, k, size)) << k << " of " << size << " bytes";
    }
    EXPECT_EQ(o.received(), 2000u);
    EXPECT_EQ(o.missed(), 0u);
    EXPECT_EQ(o.position(), r.position());
}

// An observer that stopped while the ring went round: it copies only intact messages, each
// the right one, and counts every other exactly.
TEST_F(ByteRingObserverTest, AStoppedObserverCountsWhatWasReusedExactly) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 256);
    auto r = ByteRing::reader(n, frame_type);
    auto o = shmrec::untyped::byte_ring_observer(n);
    std::vector<std::byte> got;
    constexpr std::uint64_t count = 100;
    for (std::uint64_t k = 0; k < count; ++k) {
        ASSERT_EQ(w.try_write(make_message(k, k % 50)), WriteStatus::ok) << k;
        ASSERT_EQ(r.try_read(got), ReadStatus::ok) << k;
    }
    std::uint64_t last = 0;
    bool first = true;
    for (;;) {
        const ReadStatus s = o.try_read(got);
        if (s == ReadStatus::empty) break;
        ASSERT_EQ(s, ReadStatus::ok);
        if (!first) {
            EXPECT_GT(o.sequence(), last);
        }
        first = false;
        last = o.sequence();
        EXPECT_TRUE(is_message(got, last, last % 50)) << last;
    }
    EXPECT_GT(o.received(), 0u);
    EXPECT_GT(o.missed(), 0u);
    EXPECT_EQ(o.received() + o.missed(), count);
    EXPECT_EQ(o.next_sequence(), count);
    EXPECT_EQ(o.position(), r.position());
}

// The same while a writer's batch holds its tail back (ByteRingWriter::batch): the ring goes
// round several times inside one batch, and the observer must see that it was lapped (the
// claim says so) instead of answering `empty` from the stale tail.
TEST_F(ByteRingObserverTest, AnObserverLappedInsideABatchSeesItBeforeTheBatchEnds) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 256);
    auto r = ByteRing::reader(n, frame_type);
    auto o = shmrec::untyped::byte_ring_observer(n);
    std::vector<std::byte> got;
    constexpr std::uint64_t count = 100;
    ReadStatus seen_inside = ReadStatus::empty;
    const auto b = w.batch(count, [&](std::size_t k) {
        const WriteStatus s = w.try_write(make_message(k, 40));
        if (k + 1 == count) seen_inside = o.try_read(got);  // the last one, inside the batch
        std::vector<std::byte> consumed;
        EXPECT_EQ(r.try_read(consumed), ReadStatus::ok) << k;
        return s;
    });
    ASSERT_EQ(b.count, count);
    EXPECT_EQ(seen_inside, ReadStatus::ok) << "the observer took the stale tail for the end";
    EXPECT_EQ(o.sequence(), count - 1);
    EXPECT_TRUE(is_message(got, count - 1, 40));
    EXPECT_EQ(o.missed(), count - 1);
}

TEST_F(ByteRingObserverTest, ItReadsWhatWasCommittedThenSeesTheClose) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 256);
    auto r = ByteRing::reader(n, frame_type);
    auto o = shmrec::untyped::byte_ring_observer(n);
    ASSERT_EQ(w.try_write(make_message(0, 5)), WriteStatus::ok);
    ASSERT_EQ(w.try_write(make_message(1, 6)), WriteStatus::ok);
    w.close();
    std::vector<std::byte> got;
    ASSERT_EQ(o.read(got, 1s), ReadStatus::ok);
    EXPECT_TRUE(is_message(got, 0, 5));
    ASSERT_EQ(o.read(got, 1s), ReadStatus::ok);
    EXPECT_TRUE(is_message(got, 1, 6));
    EXPECT_EQ(o.try_read(got), ReadStatus::closed);
    EXPECT_EQ(o.read(got, 10ms), ReadStatus::closed);
}

TEST_F(ByteRingObserverTest, AnythingButAByteRingIsWrongKind) {
    const std::string n = name();
    auto w = shmrec::untyped::broadcast_writer(
        n, shmrec::RecordType{"test.Rec", 8, 8, 1, {}, {}}, 16);
    try {
        (void)shmrec::untyped::byte_ring_observer(n);
        ADD_FAILURE() << "a broadcast was observed as a byte ring";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::wrong_kind) << e.what();
    }
}

// Frames no healthy writer makes, forged through the writer's mapping: corrupt, and the
// observer stays where it is.
TEST_F(ByteRingObserverTest, FramesThatCannotBeRightAreCorrupt) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 256);
    auto r = ByteRing::reader(n, frame_type);
    ASSERT_EQ(w.try_write(make_message(0, 8)), WriteStatus::ok);  // frame 0..32
    auto o = shmrec::untyped::byte_ring_observer(n);
    std::vector<std::byte> got;
    ASSERT_EQ(o.try_read(got), ReadStatus::ok);
    ASSERT_EQ(o.position(), 32u);
    auto& ctl = *reinterpret_cast<d::ByteRingControl*>(d::RegionAccess::data(w.region()));
    auto* buffer = d::RegionAccess::data(w.region()) + sizeof(d::ByteRingControl);
    auto& frame = *reinterpret_cast<d::FrameHeader*>(buffer + 32);
    // Published as a writer would: the tail past the forged frame.
    ctl.ring.tail.store(96, std::memory_order_release);
    ctl.ring.claimed.store(96, std::memory_order_release);
    auto forge = [&](std::int32_t extent, std::uint32_t tag, std::uint32_t size, std::uint32_t offset) {
        frame.size = d::pack_size(size, offset);
        frame.state.store(d::pack_state(extent, tag), std::memory_order_release);
    };
    forge(256, 0, 0, 0);  // past the buffer's end
    EXPECT_EQ(o.try_read(got), ReadStatus::corrupt);
    forge(40, 0, 0, 0);  // not a multiple of 16
    EXPECT_EQ(o.try_read(got), ReadStatus::corrupt);
    forge(16, 0, 0, 0);  // no room for a message header
    EXPECT_EQ(o.try_read(got), ReadStatus::corrupt);
    forge(64, 0, 41, 0);  // payload larger than the frame's 40 bytes of body
    EXPECT_EQ(o.try_read(got), ReadStatus::corrupt);
    forge(64, 0, 8, 33);  // payload crossing the frame's end
    EXPECT_EQ(o.try_read(got), ReadStatus::corrupt);
    forge(64, 0, 0xffff'ffffu, 0xffff'ffffu);  // sizes that would overflow a naive sum
    EXPECT_EQ(o.try_read(got), ReadStatus::corrupt);
    forge(64, d::padding_tag_bit, 0, 0);  // padding that does not reach the buffer's end
    EXPECT_EQ(o.try_read(got), ReadStatus::corrupt);
    EXPECT_EQ(o.position(), 32u);
    forge(64, 0, 40, 0);  // a frame that fits
    ASSERT_EQ(o.try_read(got), ReadStatus::ok);
    EXPECT_EQ(got.size(), 40u);
    EXPECT_EQ(o.position(), 96u);
}

// Garbage everywhere: in the buffer, in head, tail and claimed (misaligned, behind, far ahead).
// Every call returns, nothing is read outside the mapping (ASan checks that in its build), and
// a copy is never larger than the largest message.
TEST_F(ByteRingObserverTest, AForgedRingNeverCrashesIt) {
    const std::string n = name();
    constexpr std::uint64_t capacity = 1024;
    auto w = ByteRing::writer(n, frame_type, capacity);
    auto r = ByteRing::reader(n, frame_type);
    auto& ctl = *reinterpret_cast<d::ByteRingControl*>(d::RegionAccess::data(w.region()));
    auto* buffer = d::RegionAccess::data(w.region()) + sizeof(d::ByteRingControl);
    std::mt19937_64 rng(20240611);
    std::vector<std::byte> got;
    auto word = [&]() -> std::uint64_t {
        switch (rng() % 6) {
            case 0: return rng();
            case 1: return rng() % (4 * capacity);                  // near, any alignment
            case 2: return (rng() % (4 * capacity)) & ~std::uint64_t{15};  // near, aligned
            case 3: return std::uint64_t{0} - (rng() % 64) * 16;     // just behind 0
            case 4: return d::pack_state(static_cast<std::int32_t>(rng() % 2048) - 1024,
                                         static_cast<std::uint32_t>(rng() % 4) |
                                             (rng() % 2 ? d::padding_tag_bit : 0));
            default: return 0;
        }
    };
    int ok = 0;
    // Each round opens an observer: ~20 ms under Wine. (Sanitizers keep every round.)
    constexpr int rounds = shmrec_test::windows_build ? 200 : 2000;
    for (int round = 0; round < rounds; ++round) {
        for (std::uint64_t i = 0; i < capacity / 8; ++i) {
            std::uint64_t v = word();
            std::memcpy(buffer + 8 * i, &v, 8);
        }
        ctl.ring.head.store(word(), std::memory_order_relaxed);
        ctl.ring.tail.store(word(), std::memory_order_relaxed);
        ctl.ring.claimed.store(word(), std::memory_order_relaxed);
        ctl.messages.read.store(word(), std::memory_order_relaxed);
        ctl.messages.written.store(word(), std::memory_order_relaxed);
        auto o = shmrec::untyped::byte_ring_observer(n, round % 2 ? StartAt::newest : StartAt::oldest);
        for (int i = 0; i < 8; ++i) {
            const ReadStatus s = o.try_read(got);
            if (s == ReadStatus::ok) {
                ++ok;
                ASSERT_LE(got.size(), ByteRing::max_message(capacity));
            }
            if (i % 3 == 0) ctl.ring.claimed.store(word(), std::memory_order_relaxed);
        }
    }
    // The forged frames are plausible often enough that some are copied.
    EXPECT_GT(ok, 0);
}

// A writer thread, a consumer thread and the observer in this one: every copy it returns is
// exactly the message its sequence number names, sequences only grow, and what it did not copy
// it counted. A small ring and a fast writer make it miss often.
class ByteRingObserverStream : public shmrec_test::RegionFixture,
                               public ::testing::WithParamInterface<std::uint64_t> {};

TEST_P(ByteRingObserverStream, EveryCopyIsIntactAndEveryMissIsCounted) {
    if (under_tsan) {
        GTEST_SKIP() << "the byte ring writer's plain frame stores race the observer's atomic "
                        "loads (see the file comment)";
    }
    const std::string n = name();
    const std::uint64_t capacity = GetParam();
    constexpr std::uint64_t count = shmrec_test::wine_or_sanitizer ? 20'000 : 200'000;
    auto w = ByteRing::writer(n, frame_type, capacity);
    auto r = ByteRing::reader(n, frame_type);
    auto o = shmrec::untyped::byte_ring_observer(n);
    const std::size_t max = std::min<std::size_t>(w.max_message(), 2048);
    std::thread writer([&] {
        for (std::uint64_t k = 0; k < count; ++k) {
            const std::size_t size = message_size(k, max);
            if (k % 3 == 0) {
                auto loan = w.loan(size, 10s);
                ASSERT_TRUE(loan) << to_string(loan.status());
                const std::size_t offset = loan.buffer().size() - size;
                if (size != 0) {
                    std::memcpy(loan.buffer().data() + offset, make_message(k, size).data(), size);
                }
                ASSERT_EQ(loan.commit(size, offset), WriteStatus::ok);
            } else {
                ASSERT_EQ(w.write(make_message(k, size), 10s), WriteStatus::ok);
            }
        }
        w.close();
    });
    std::thread consumer([&] {
        std::vector<std::byte> m;
        for (;;) {
            const ReadStatus s = r.read(m, 10s);
            if (s != ReadStatus::ok) {
                EXPECT_EQ(s, ReadStatus::closed);
                break;
            }
        }
    });
    std::vector<std::byte> got;
    std::uint64_t bad = 0, backwards = 0, last = 0, contended = 0;
    bool first = true;
    for (;;) {
        const ReadStatus s = o.try_read(got);
        if (s == ReadStatus::closed) break;
        if (s == ReadStatus::empty) continue;
        if (s == ReadStatus::contended) {
            ++contended;
            continue;
        }
        ASSERT_EQ(s, ReadStatus::ok);
        const std::uint64_t k = o.sequence();
        if (!is_message(got, k, message_size(k, max))) ++bad;
        if (!first && k <= last) ++backwards;
        first = false;
        last = k;
    }
    writer.join();
    consumer.join();
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(backwards, 0u);
    EXPECT_GT(o.received(), 0u);
    EXPECT_EQ(o.received() + o.missed(), count);
    RecordProperty("received", std::to_string(o.received()));
    RecordProperty("missed", std::to_string(o.missed()));
    std::printf("capacity %llu: copied %llu, missed %llu, contended calls %llu\n",
                static_cast<unsigned long long>(capacity),
                static_cast<unsigned long long>(o.received()),
                static_cast<unsigned long long>(o.missed()),
                static_cast<unsigned long long>(contended));
}

INSTANTIATE_TEST_SUITE_P(Capacities, ByteRingObserverStream,
                         ::testing::Values(std::uint64_t{256}, std::uint64_t{4096},
                                           std::uint64_t{1} << 16));

}  // namespace
