// ByteRing with its writer and consumer on threads of one process (each end with its own open
// of the region, as two processes would have): framing, padding at the buffer's end, loans,
// takeover by a new writer or consumer, corrupt frames, and a stream of random sizes. These
// are ThreadSanitizer targets too.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <optional>
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
using shmrec::WriteStatus;

using bytetest::frame_type;
using bytetest::is_message;
using bytetest::make_message;
using bytetest::size_of;

class ByteRingTest : public shmrec_test::RegionFixture {};

TEST_F(ByteRingTest, MessagesOfEverySizeArriveInOrderAcrossManyWraps) {
    const std::string n = name();
    constexpr std::uint64_t capacity = 512;
    auto w = ByteRing::writer(n, frame_type, capacity);
    auto r = ByteRing::reader(n, frame_type);
    const std::size_t max = ByteRing::max_message(capacity);
    EXPECT_EQ(max, 232u);
    std::vector<std::byte> got;
    for (std::uint64_t k = 0; k < 2000; ++k) {
        const std::size_t size = k % (max + 1);  // 0 .. max, every size, every offset
        ASSERT_EQ(w.try_write(make_message(k, size)), WriteStatus::ok) << "message " << k;
        ASSERT_EQ(r.try_read(got), ReadStatus::ok) << "message " << k;
        ASSERT_TRUE(is_message(got, k, size)) << "message " << k << " of " << size << " bytes";
    }
    EXPECT_EQ(r.try_read(got), ReadStatus::empty);
    EXPECT_EQ(w.written(), 2000u);
    EXPECT_EQ(r.consumed(), 2000u);
}

TEST_F(ByteRingTest, FullRingRefusesUntilTheConsumerFreesRoomAndSequencesCount) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 256);
    auto r = ByteRing::reader(n, frame_type);
    // Frames of 24 + 40 -> 64 bytes: four fill the ring.
    for (std::uint64_t k = 0; k < 4; ++k) ASSERT_EQ(w.try_write(make_message(k, 40)), WriteStatus::ok);
    EXPECT_EQ(w.try_write(make_message(4, 40)), WriteStatus::full);
    EXPECT_EQ(w.try_write(make_message(4, 8)), WriteStatus::full);
    {
        auto m = r.try_peek();
        ASSERT_TRUE(m);
        EXPECT_EQ(m.sequence(), 0u);
        EXPECT_TRUE(is_message(m.data(), 0, 40));
        // Not consumed yet: still full.
        EXPECT_EQ(w.try_write(make_message(4, 40)), WriteStatus::full);
        EXPECT_EQ(r.try_peek().status(), ReadStatus::sample_pending);
    }
    EXPECT_EQ(w.try_write(make_message(4, 40)), WriteStatus::ok);
    for (std::uint64_t k = 1; k <= 4; ++k) {
        auto m = r.try_peek();
        ASSERT_TRUE(m) << to_string(m.status());
        EXPECT_EQ(m.sequence(), k);
        EXPECT_TRUE(is_message(m.data(), k, 40));
    }
}

TEST_F(ByteRingTest, TooLargeMessagesAreRefusedAndNothingIsWritten) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 1024);
    auto r = ByteRing::reader(n, frame_type);
    EXPECT_EQ(w.max_message(), 488u);
    EXPECT_EQ(w.try_write(make_message(0, 489)), WriteStatus::too_large);
    EXPECT_EQ(w.write(make_message(0, 100'000), 1s), WriteStatus::too_large);
    EXPECT_EQ(w.try_loan(489).status(), WriteStatus::too_large);
    EXPECT_EQ(w.try_write(make_message(0, 488)), WriteStatus::ok);
    std::vector<std::byte> got;
    ASSERT_EQ(r.try_read(got), ReadStatus::ok);
    EXPECT_TRUE(is_message(got, 0, 488));
    EXPECT_EQ(w.written(), 1u);
}

TEST_F(ByteRingTest, APaddedMessageFollowsAtTheBufferStart) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 256);
    auto r = ByteRing::reader(n, frame_type);
    std::vector<std::byte> got;
    // 3 frames of 64 bytes leave 64 at the end; a 96-byte frame pads them and wraps.
    for (std::uint64_t k = 0; k < 3; ++k) {
        ASSERT_EQ(w.try_write(make_message(k, 40)), WriteStatus::ok);
        ASSERT_EQ(r.try_read(got), ReadStatus::ok);
    }
    ASSERT_EQ(w.try_write(make_message(3, 70)), WriteStatus::ok);
    EXPECT_EQ(r.position(), 192u);
    auto m = r.try_peek();
    ASSERT_TRUE(m);
    EXPECT_EQ(m.position(), 256u);  // after the padding
    EXPECT_TRUE(is_message(m.data(), 3, 70));
}

TEST_F(ByteRingTest, LoanedBytesArePublishedOnlyOnCommitAndAbandonedOnDrop) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 1024);
    auto r = ByteRing::reader(n, frame_type);
    {
        auto loan = w.try_loan(100);
        ASSERT_TRUE(loan);
        EXPECT_GE(loan.buffer().size(), 100u);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(loan.buffer().data() + loan.buffer().size()) % 16, 0u);
        EXPECT_EQ(w.try_write(make_message(9, 4)), WriteStatus::loan_pending);
        std::memcpy(loan.buffer().data(), make_message(9, 50).data(), 50);
        EXPECT_EQ(r.try_peek().status(), ReadStatus::empty);
    }  // dropped: nothing published
    EXPECT_EQ(r.try_peek().status(), ReadStatus::empty);
    auto loan = w.try_loan(100);
    ASSERT_TRUE(loan);
    // A builder fills the end of its buffer: publish the last 60 bytes.
    const std::size_t offset = loan.buffer().size() - 60;
    std::memcpy(loan.buffer().data() + offset, make_message(1, 60).data(), 60);
    EXPECT_EQ(loan.commit(61, offset), WriteStatus::wrong_size);  // past the end: still open
    EXPECT_TRUE(loan);
    EXPECT_EQ(loan.commit(60, offset), WriteStatus::ok);
    EXPECT_FALSE(loan);
    EXPECT_EQ(loan.commit(60, offset), WriteStatus::moved_from);
    auto m = r.try_peek();
    ASSERT_TRUE(m);
    EXPECT_EQ(m.sequence(), 0u);  // the abandoned loan took no number
    EXPECT_TRUE(is_message(m.data(), 1, 60));
}

TEST_F(ByteRingTest, ANewWriterAndANewConsumerContinueWhereTheOldOnesStopped) {
    const std::string n = name();
    std::vector<std::byte> got;
    std::uint64_t next_write = 0, next_read = 0;
    // A paging-file region (Windows) lives only while a handle does: hold one across the gap.
    std::optional<shmrec::ChannelMonitor> hold;
    {
        auto w = ByteRing::writer(n, frame_type, 512);
        hold.emplace(shmrec::ChannelMonitor::open(n));
        auto r = ByteRing::reader(n, frame_type);
        for (; next_write < 5; ++next_write) {
            ASSERT_EQ(w.try_write(make_message(next_write, 30 + next_write)), WriteStatus::ok);
        }
        for (; next_read < 2; ++next_read) {
            ASSERT_EQ(r.try_read(got), ReadStatus::ok);
            ASSERT_TRUE(is_message(got, next_read, 30 + next_read));
        }
        // A loan left open when the writer goes: given back, never published.
        auto loan = w.try_loan(20);
        ASSERT_TRUE(loan);
        w.close();
        EXPECT_FALSE(loan);
    }
    auto w = ByteRing::writer(n, frame_type, 0, shmrec::OpenMode::open_only);
    EXPECT_EQ(w.written(), 5u);
    auto r = ByteRing::reader(n, frame_type);
    EXPECT_EQ(r.consumed(), 2u);
    auto expected_size = [](std::uint64_t k) { return k < 5 ? 30 + k : 30 + k % 50; };
    for (; next_write < 40; ++next_write) {
        ASSERT_EQ(w.try_write(make_message(next_write, expected_size(next_write))), WriteStatus::ok)
            << "message " << next_write;
        // Keep three unread so the ring wraps with both ends new and never fills.
        while (next_write - next_read >= 3) {
            ASSERT_EQ(r.try_read(got), ReadStatus::ok);
            ASSERT_TRUE(is_message(got, next_read, expected_size(next_read))) << next_read;
            ++next_read;
        }
    }
    while (r.try_read(got) == ReadStatus::ok) {
        ASSERT_TRUE(is_message(got, next_read, expected_size(next_read))) << next_read;
        ++next_read;
    }
    EXPECT_EQ(next_read, 40u);
}

// A frame a healthy writer cannot have written (forged here through the writer's mapping, as a
// hostile or broken writer would) is `corrupt`; the consumer reads nothing out of bounds and
// stays where it is.
TEST_F(ByteRingTest, FramesThatCannotFitAreCorruptAndTheConsumerStaysPut) {
    namespace d = shmrec::detail;
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 256);
    auto r = ByteRing::reader(n, frame_type);
    ASSERT_EQ(w.try_write(make_message(0, 8)), WriteStatus::ok);
    std::vector<std::byte> got;
    ASSERT_EQ(r.try_read(got), ReadStatus::ok);
    const std::uint64_t at = r.position();  // 32: the next frame's state word
    auto* buffer = d::RegionAccess::data(w.region()) + sizeof(d::ByteRingControl);
    auto& frame = *reinterpret_cast<d::FrameHeader*>(buffer + at);
    auto forge = [&](std::int32_t extent, std::uint32_t tag, std::uint32_t size, std::uint32_t offset) {
        frame.size = d::pack_size(size, offset);
        frame.state.store(d::pack_state(extent, tag), std::memory_order_release);
    };
    forge(256, 0, 0, 0);  // past the buffer's end
    EXPECT_EQ(r.try_peek().status(), ReadStatus::corrupt);
    forge(40, 0, 0, 0);  // not a multiple of 16
    EXPECT_EQ(r.try_peek().status(), ReadStatus::corrupt);
    forge(16, 0, 0, 0);  // no room for a message header
    EXPECT_EQ(r.try_peek().status(), ReadStatus::corrupt);
    forge(64, 0, 41, 0);  // payload larger than the frame's 40 bytes of body
    EXPECT_EQ(r.try_peek().status(), ReadStatus::corrupt);
    forge(64, 0, 8, 33);  // payload crossing the frame's end
    EXPECT_EQ(r.try_peek().status(), ReadStatus::corrupt);
    forge(64, d::padding_tag_bit, 0, 0);  // padding that does not reach the buffer's end
    EXPECT_EQ(r.try_peek().status(), ReadStatus::corrupt);
    forge(64, 1, 8, 0);  // another lap's frame: not ours yet
    EXPECT_EQ(r.try_peek().status(), ReadStatus::empty);
    EXPECT_EQ(r.position(), at);
    forge(64, 0, 40, 0);  // a frame that fits: read
    auto m = r.try_peek();
    ASSERT_TRUE(m);
    EXPECT_EQ(m.data().size(), 40u);
}

// Step 3 of the protocol: the state word after each frame is cleared before the frame is
// published. Without it a consumer that caught up would read an older lap's payload bytes as a
// state word; here they look like a frame of the next lap.
TEST_F(ByteRingTest, AnOlderLapsPayloadIsNeverTakenForAFrame) {
    namespace d = shmrec::detail;
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 256);
    auto r = ByteRing::reader(n, frame_type);
    std::vector<std::uint64_t> forged(13, d::pack_state(64, 1));  // 104 bytes of lap-1 frames
    ASSERT_EQ(w.try_write(std::as_bytes(std::span(forged))), WriteStatus::ok);  // frame 0..128
    ASSERT_EQ(w.try_write(make_message(1, 104)), WriteStatus::ok);              // frame 128..256
    std::vector<std::byte> got;
    ASSERT_EQ(r.try_read(got), ReadStatus::ok);
    ASSERT_EQ(r.try_read(got), ReadStatus::ok);
    ASSERT_EQ(w.try_write(make_message(2, 8)), WriteStatus::ok);  // lap 1: frame 256..288
    ASSERT_EQ(r.try_read(got), ReadStatus::ok);
    EXPECT_TRUE(is_message(got, 2, 8));
    EXPECT_EQ(r.position(), 288u);  // offset 32: the old payload's words
    EXPECT_EQ(r.try_peek().status(), ReadStatus::empty);
    ASSERT_EQ(w.try_write(make_message(3, 8)), WriteStatus::ok);
    ASSERT_EQ(r.try_read(got), ReadStatus::ok);
    EXPECT_TRUE(is_message(got, 3, 8));
}

TEST_F(ByteRingTest, TheConsumerReadsWhatWasCommittedThenClosedOrWriterGone) {
    const std::string n = name();
    auto r = [&] {
        auto w = ByteRing::writer(n, frame_type, 1024);
        auto reader = ByteRing::reader(n, frame_type);
        EXPECT_EQ(w.try_write(make_message(0, 10)), WriteStatus::ok);
        EXPECT_EQ(w.try_write(make_message(1, 20)), WriteStatus::ok);
        return reader;
    }();  // the writer closed
    std::vector<std::byte> got;
    ASSERT_EQ(r.read(got, 1s), ReadStatus::ok);
    EXPECT_TRUE(is_message(got, 0, 10));
    ASSERT_EQ(r.read(got, 1s), ReadStatus::ok);
    EXPECT_TRUE(is_message(got, 1, 20));
    EXPECT_EQ(r.read(got, 1s), ReadStatus::closed);
    EXPECT_EQ(r.try_read(got), ReadStatus::closed);
    // A type of another name or fingerprint is refused at open.
    EXPECT_THROW((void)ByteRing::reader(n, {"test.Other", 0x1234}), shmrec::Error);
    try {
        (void)ByteRing::writer(n, {"test.Frame", 0x9999}, 0, shmrec::OpenMode::open_only);
        ADD_FAILURE() << "another fingerprint was accepted";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::fingerprint_mismatch) << e.what();
    }
}

// A writer thread and a consumer thread, messages of random sizes (empty ones and ones near
// the limit included), blocking forms, in-place reading; every byte checked.
class ByteRingThreadStream : public shmrec_test::RegionFixture,
                             public ::testing::WithParamInterface<std::uint64_t> {};

TEST_P(ByteRingThreadStream, EveryMessageArrivesOnceInOrderAndIntact) {
    const std::string n = name();
    const std::uint64_t capacity = GetParam();
    constexpr std::uint64_t count = shmrec_test::under_sanitizer ? 20'000 : 100'000;
    auto w = ByteRing::writer(n, frame_type, capacity);
    auto r = ByteRing::reader(n, frame_type);
    // Near the limit, but no larger than 8 KiB: the test's own copies and checks must not
    // dominate.
    const std::size_t max = std::min<std::size_t>(w.max_message(), 8192);
    std::thread writer([&] {
        for (std::uint64_t k = 0; k < count; ++k) {
            const std::size_t size = size_of(k, max);
            if (k % 3 == 0) {  // in place, at the end of the loan as a builder would
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
    std::uint64_t got = 0, bad = 0;
    for (;;) {
        auto m = r.peek(10s);
        if (!m) {
            EXPECT_EQ(m.status(), ReadStatus::closed);
            break;
        }
        if (m.sequence() != got || !is_message(m.data(), got, size_of(got, max))) ++bad;
        ++got;
    }
    writer.join();
    EXPECT_EQ(got, count);
    EXPECT_EQ(bad, 0u);
}

INSTANTIATE_TEST_SUITE_P(Capacities, ByteRingThreadStream,
                         ::testing::Values(std::uint64_t{64}, std::uint64_t{256},
                                           std::uint64_t{4096}, std::uint64_t{1} << 20));

}  // namespace
