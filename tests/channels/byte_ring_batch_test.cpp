// ByteRing batches (ByteRingWriter::batch, ByteRingReader::try_read_batch / read_batch) and the
// table ring's batches built on them (TableRingWriter::try_build / build, TableRingReader::
// try_read_batch / read_batch): what a batch publishes when, how a batch read ends, and a
// stream through a writer thread and a consumer thread. ThreadSanitizer targets too.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "byte_messages.hpp"
#include "channel_test_support.hpp"
#include "enrolment.shmrec.hpp"
#include "shmrec/byte_ring.hpp"
#include "shmrec/table_ring.hpp"
#include "shmrec/untyped.hpp"

namespace {

using namespace std::chrono_literals;
using bytetest::frame_type;
using bytetest::is_message;
using bytetest::make_message;
using bytetest::size_of;
using shmrec::BatchRead;
using shmrec::ByteRing;
using shmrec::MessageView;
using shmrec::ReadStatus;
using shmrec::WriteStatus;

class ByteRingBatchTest : public shmrec_test::RegionFixture {};

// Inside a batch every committed message is the consumer's at once (its frame's state word);
// only the tail and counters observers read, and the wake-up check, wait for the batch's end.
TEST_F(ByteRingBatchTest, MessagesReachTheConsumerAtOnceAndTheCountersWhenTheBatchEnds) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 1024);
    auto r = ByteRing::reader(n, frame_type);
    auto monitor = shmrec::ChannelMonitor::open(n);
    std::uint64_t seen = 0;
    const auto batch = w.batch(3, [&](std::size_t i) {
        const WriteStatus s = w.try_write(make_message(i, 20));
        const BatchRead got = r.try_read_batch(8, [&](const MessageView& m) {
            EXPECT_EQ(m.sequence, seen);
            EXPECT_TRUE(is_message(m.data, seen, 20));
            ++seen;
        });
        EXPECT_EQ(got.count, 1u) << "message " << i
                                 << " is not the consumer's until the batch ends";
        EXPECT_EQ(monitor.state().written, 0u) << "the counters were published inside the batch";
        return s;
    });
    EXPECT_EQ(batch.count, 3u);
    EXPECT_EQ(batch.status, WriteStatus::ok);
    EXPECT_EQ(monitor.state().written, 3u);
    EXPECT_EQ(monitor.state().oldest, 3u);
}

// The batch stops at the first fill that is not ok and says which: full here, with what fit
// published.
TEST_F(ByteRingBatchTest, ABatchStopsAtTheFirstWriteThatFails) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 256);  // four 40-byte messages fit (64-byte frames)
    auto r = ByteRing::reader(n, frame_type);
    const auto batch = w.batch(10, [&](std::size_t i) { return w.try_write(make_message(i, 40)); });
    EXPECT_EQ(batch.count, 4u);
    EXPECT_EQ(batch.status, WriteStatus::full);
    EXPECT_EQ(w.written(), 4u);
    std::uint64_t k = 0;
    const auto got = r.try_read_batch(
        100, [&](const MessageView& m) { EXPECT_TRUE(is_message(m.data, k++, 40)); });
    EXPECT_EQ(got.count, 4u);
    EXPECT_EQ(got.status, ReadStatus::ok);
    EXPECT_EQ(r.try_read_batch(100, [](const MessageView&) {}).status, ReadStatus::empty);
}

// A visit that returns false ends the batch after its message; one that throws leaves its
// message to the next read, and the messages before it are consumed.
TEST_F(ByteRingBatchTest, AVisitEndsTheBatchByReturningFalseOrThrowing) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 1024);
    auto r = ByteRing::reader(n, frame_type);
    for (std::uint64_t k = 0; k < 8; ++k)
        ASSERT_EQ(w.try_write(make_message(k, 10)), WriteStatus::ok);

    std::vector<std::uint64_t> seen;
    auto stop_at_2 = [&](const MessageView& m) {
        seen.push_back(m.sequence);
        return m.sequence != 2;
    };
    EXPECT_EQ(r.try_read_batch(100, stop_at_2).count, 3u);
    EXPECT_EQ(r.consumed(), 3u);

    EXPECT_THROW((void)r.try_read_batch(100,
                                        [&](const MessageView& m) {
                                            if (m.sequence == 5)
                                                throw std::runtime_error("visit failed");
                                            seen.push_back(m.sequence);
                                        }),
                 std::runtime_error);
    EXPECT_EQ(r.consumed(), 5u) << "3 and 4 are consumed, 5 is not";
    EXPECT_EQ(
        r.try_read_batch(100, [&](const MessageView& m) { seen.push_back(m.sequence); }).count, 3u);
    EXPECT_EQ(seen, (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

// The consumer sleeps on its doorbell (no spinning, liveness checked every 10 s) while the
// writer's batch fills the ring and then waits for room: the batch must publish, and so wake
// the consumer, before it waits. Without that, each lap would cost the consumer's 10 s sleep.
TEST_F(ByteRingBatchTest, ABatchThatWaitsForRoomWakesTheConsumerFirst) {
    const std::string n = name();
    shmrec::WaitOptions sleepy;
    sleepy.spin_iterations = 0;
    sleepy.liveness_interval = 10s;
    auto w = ByteRing::writer(n, frame_type, 256, shmrec::OpenMode::create_only, {}, sleepy);
    auto r = ByteRing::reader(n, frame_type, {}, sleepy);
    constexpr std::uint64_t total = 40;  // ten laps of the ring
    std::uint64_t next = 0;
    std::thread consumer([&] {
        while (next < total) {
            const auto got = r.read_batch(
                100,
                [&](const MessageView& m) {
                    EXPECT_TRUE(is_message(m.data, next, 40)) << next;
                    ++next;
                },
                20s);
            if (got.status != ReadStatus::ok) {
                ADD_FAILURE() << to_string(got.status);
                return;
            }
        }
    });
    std::this_thread::sleep_for(50ms);  // the consumer is asleep
    const auto t0 = shmrec_test::Clock::now();
    const auto batch =
        w.batch(total, [&](std::size_t i) { return w.write(make_message(i, 40), 20s); });
    consumer.join();
    EXPECT_EQ(batch.count, total);
    EXPECT_EQ(batch.status, WriteStatus::ok);
    EXPECT_EQ(next, total);
    EXPECT_LT(shmrec_test::ms_since(t0), 5000) << "a wake-up was held back by the batch";
}

// A writer thread writing batches of messages of random sizes (padding, empty messages, waits
// for room) and a consumer thread reading batches: every message once, in order, intact.
TEST_F(ByteRingBatchTest, BatchesOfRandomSizesStreamInOrderAcrossManyWraps) {
    const std::string n = name();
    auto w = ByteRing::writer(n, frame_type, 1024);
    auto r = ByteRing::reader(n, frame_type);
    constexpr std::uint64_t total = 20'000;
    const std::size_t max = ByteRing::max_message(1024);
    std::thread writer([&] {
        std::uint64_t k = 0;
        while (k < total) {
            const std::size_t count = std::min<std::uint64_t>(1 + k % 37, total - k);
            const auto b = w.batch(count, [&](std::size_t i) {
                return w.write(make_message(k + i, size_of(k + i, max, true)), 20s);
            });
            if (b.status != WriteStatus::ok) {
                ADD_FAILURE() << to_string(b.status);
                return;
            }
            k += b.count;
        }
    });
    std::uint64_t next = 0;
    while (next < total) {
        const auto got = r.read_batch(
            1 + next % 53,
            [&](const MessageView& m) {
                EXPECT_EQ(m.sequence, next);
                EXPECT_TRUE(is_message(m.data, next, size_of(next, max, true))) << next;
                ++next;
            },
            20s);
        ASSERT_EQ(got.status, ReadStatus::ok) << "after " << next;
    }
    writer.join();
    EXPECT_EQ(r.try_read_batch(10, [](const MessageView&) {}).status, ReadStatus::empty);
}

// ---- table batches ------------------------------------------------------------------------

using EnrolmentRing = shmrec::TableRing<school::Enrolment>;

flatbuffers::Offset<school::Enrolment> enrolment(flatbuffers::FlatBufferBuilder& fbb,
                                                 std::uint64_t k) {
    school::Student s{};
    s.id = static_cast<std::int64_t>(k);
    s.name = "SecBug";
    const auto courses = fbb.CreateVectorOfStrings({"course-" + std::to_string(k)});
    return school::CreateEnrolment(fbb, &s, courses, fbb.CreateString("note " + std::to_string(k)));
}

bool is_enrolment(const school::Enrolment& e, std::uint64_t k) {
    return e.student() != nullptr && e.student()->id == static_cast<std::int64_t>(k) &&
           e.note() != nullptr && e.note()->str() == "note " + std::to_string(k) &&
           e.courses() != nullptr && e.courses()->size() == 1 &&
           e.courses()->Get(0)->str() == "course-" + std::to_string(k);
}

class TableBatchTest : public shmrec_test::RegionFixture,
                       public ::testing::WithParamInterface<bool> {};  // copy mode

// Records built in place by batches, read by batches (in place, or copied into the reader's
// one buffer), across many wraps with a writer and a consumer thread.
TEST_P(TableBatchTest, RecordsBuiltAndReadInBatchesArriveVerifiedAndInOrder) {
    const std::string n = name();
    auto w = EnrolmentRing::writer(n, 4096);
    shmrec::TableReadOptions read;
    read.copy = GetParam();
    auto r = EnrolmentRing::reader(n, {}, {}, read);
    constexpr std::uint64_t total = 5'000;
    std::thread writer([&] {
        std::uint64_t k = 0;
        while (k < total) {
            const auto b = w.build(
                std::min<std::uint64_t>(16, total - k), 256,
                [&](flatbuffers::FlatBufferBuilder& fbb, std::size_t i) {
                    return enrolment(fbb, k + i);
                },
                20s);
            if (b.status != WriteStatus::ok) {
                ADD_FAILURE() << to_string(b.status);
                return;
            }
            k += b.count;
        }
    });
    std::uint64_t next = 0;
    while (next < total) {
        const auto got = r.read_batch(
            32,
            [&](const school::Enrolment& e, std::uint64_t seq) {
                EXPECT_EQ(seq, next);
                EXPECT_TRUE(is_enrolment(e, next)) << next;
                ++next;
            },
            20s);
        ASSERT_EQ(got.status, ReadStatus::ok) << "after " << next;
    }
    writer.join();
    EXPECT_EQ(r.rejected(), 0u);
}

INSTANTIATE_TEST_SUITE_P(InPlaceAndCopied, TableBatchTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "Copied" : "InPlace"; });

// A record that fails verification ends the batch: the records before it are visited, it is
// skipped and counted, the batch says corrupt, and the next batch goes on after it.
TEST_F(ByteRingBatchTest, ATableRecordThatFailsVerificationEndsTheBatch) {
    const std::string n = name();
    auto w = EnrolmentRing::writer(n, 4096);
    auto r = EnrolmentRing::reader(n);
    const auto built = [](flatbuffers::FlatBufferBuilder& fbb, std::size_t i) {
        return enrolment(fbb, i);
    };
    ASSERT_EQ(w.try_build(2, 256, built).count, 2u);
    const std::vector<std::byte> garbage(64, std::byte{0xee});
    ASSERT_EQ(w.bytes().try_write(garbage), WriteStatus::ok);
    ASSERT_EQ(w.try_build(2, 256,
                          [&](flatbuffers::FlatBufferBuilder& fbb, std::size_t i) {
                              return enrolment(fbb, 3 + i);
                          })
                  .count,
              2u);

    std::vector<std::uint64_t> seen;
    auto visit = [&](const school::Enrolment& e) {
        seen.push_back(static_cast<std::uint64_t>(e.student()->id));
    };
    const auto first = r.try_read_batch(10, visit);
    EXPECT_EQ(first.count, 2u);
    EXPECT_EQ(first.status, ReadStatus::corrupt);
    EXPECT_EQ(r.rejected(), 1u);
    EXPECT_EQ(r.last_rejection().sequence, 2u);
    EXPECT_NE(r.last_rejection().reason.find("Verifier"), std::string::npos)
        << r.last_rejection().reason;
    const auto second = r.try_read_batch(10, visit);
    EXPECT_EQ(second.count, 2u);
    EXPECT_EQ(second.status, ReadStatus::ok);
    EXPECT_EQ(seen, (std::vector<std::uint64_t>{0, 1, 3, 4}));
    EXPECT_EQ(r.consumed(), 5u);
}

}  // namespace
