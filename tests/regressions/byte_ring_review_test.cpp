// Adversarial review of the byte ring and table ring (issue 11): a writer or consumer killed at
// each step of the protocol and replaced, positions forged by a lying peer, and the lifetime of
// table samples. Process tests kill shmrec_regression_peer at a fault point
// (SHMREC_FAULT="<point>:<n>:kill"); in-process tests forge shared words through
// detail::RegionAccess::data(), as a peer that maps the region writable could.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "byte_ring_review_support.hpp"
#include "child_process.hpp"
#include "enrolment.shmrec.hpp"
#include "regression_support.hpp"
#include "shmrec/byte_ring.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/table_ring.hpp"
#include "test_names.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ByteRing;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec_regress_test::peer;
using shmrec_review::is_message;
using shmrec_review::message;
using shmrec_review::message_type;
using shmrec_review::quick_liveness;
namespace d = shmrec::detail;

class ByteRingReview : public shmrec_test::RegionFixture {};

// Reads messages in order until the ring says something other than ok; checks each one's
// sequence and bytes against `next` and advances it. Returns the final status.
ReadStatus read_in_order(shmrec::ByteRingReader& r, std::uint64_t& next) {
    for (;;) {
        auto m = r.peek(10s);
        if (!m) return m.status();
        EXPECT_EQ(m.sequence(), next) << "a message lost or repeated";
        EXPECT_TRUE(is_message(m.data(), m.sequence())) << "message " << m.sequence() << " torn";
        if (m.sequence() != next) return ReadStatus::corrupt;
        ++next;
    }
}

// A writer killed at `point` (its n-th hit), then a replacing writer: the consumer receives
// every message exactly once, in order, intact. `committed` says whether the message being
// written when it died was published (before_tail) or not (before_commit).
void writer_killed_then_replaced(const std::string& n, const std::string& point, int hit,
                                 bool committed, const std::string& mode = "byte-write") {
    SCOPED_TRACE(mode + " killed at " + point + " hit " + std::to_string(hit));
    auto w1 = peer({mode, n, "30"}, point + ":" + std::to_string(hit) + ":kill");
    ASSERT_EQ(w1->expect_line("ready"), "ready start=0");
    auto r = ByteRing::reader(n, message_type, {}, quick_liveness());
    w1->send("go");
    std::uint64_t next = 0;
    EXPECT_EQ(read_in_order(r, next), ReadStatus::writer_gone);
    EXPECT_FALSE(w1->wait_exit().ok());
    EXPECT_EQ(next, static_cast<std::uint64_t>(committed ? hit : hit - 1));

    auto w2 = peer({"byte-write", n, "30"});
    EXPECT_EQ(w2->expect_line("ready"), "ready start=" + std::to_string(next))
        << "the replacing writer would skip or repeat a message";
    w2->send("go");
    const std::uint64_t end = next + 30;
    EXPECT_EQ(read_in_order(r, next), ReadStatus::closed);
    EXPECT_EQ(next, end);
    EXPECT_EQ(w2->expect_line("wrote"), "wrote n=30 status=ok");
    EXPECT_TRUE(w2->wait_exit().ok());
}

TEST_F(ByteRingReview, AWriterKilledBeforeCommitIsReplacedWithNothingLostOrRepeated) {
    for (int hit = 1; hit <= 8; ++hit) {
        writer_killed_then_replaced(name(), "byte_ring.before_commit", hit, false);
        if (HasFatalFailure()) return;
    }
}

TEST_F(ByteRingReview, AWriterKilledBeforeTailIsReplacedWithNothingLostOrRepeated) {
    for (int hit = 1; hit <= 8; ++hit) {
        writer_killed_then_replaced(name(), "byte_ring.before_tail", hit, true);
        if (HasFatalFailure()) return;
    }
}

// A writer killed inside a batch, after committing message `hit` - 1 of the stream but before
// the batch published the tail and counters: the consumer has the committed messages, and
// the replacing writer starts after them (it scans past the published tail).
TEST_F(ByteRingReview, AWriterKilledInsideABatchIsReplacedWithNothingLostOrRepeated) {
    for (int hit = 1; hit <= 12; ++hit) {
        writer_killed_then_replaced(name(), "byte_ring.held_commit", hit, true, "byte-write-batch");
        if (HasFatalFailure()) return;
    }
}

// A consumer killed while releasing message k (it saw it, did not consume it): its replacement
// starts at k, and the stream goes on.
TEST_F(ByteRingReview, AConsumerKilledBeforeReleaseLeavesTheMessageToItsReplacement) {
    for (int hit = 1; hit <= 4; ++hit) {
        SCOPED_TRACE("hit " + std::to_string(hit));
        const std::string n = name();
        auto w = ByteRing::writer(n, message_type, 1024, shmrec::OpenMode::create_only, {},
                                  quick_liveness());
        for (std::uint64_t k = 0; k < 10; ++k) ASSERT_EQ(w.try_write(message(k)), WriteStatus::ok);
        auto c = peer({"byte-read", n, "100"},
                      "byte_ring.before_release:" + std::to_string(hit) + ":kill");
        ASSERT_EQ(c->expect_line("ready"), "ready consumed=0");
        for (int k = 0; k < hit; ++k) {
            EXPECT_EQ(c->expect_line("got"), "got seq=" + std::to_string(k) + " ok=1");
        }
        EXPECT_FALSE(c->wait_exit().ok());

        auto r = ByteRing::reader(n, message_type, {}, quick_liveness());
        std::uint64_t next = static_cast<std::uint64_t>(hit - 1);
        EXPECT_EQ(r.consumed(), next);
        for (std::uint64_t k = 10; k < 40; ++k) {
            ASSERT_EQ(w.write(message(k), 5s), WriteStatus::ok) << k;
            auto m = r.try_peek();
            ASSERT_TRUE(m) << to_string(m.status());
            EXPECT_EQ(m.sequence(), next);
            EXPECT_TRUE(is_message(m.data(), next));
            ++next;
        }
        w.close();
        EXPECT_EQ(read_in_order(r, next), ReadStatus::closed);
        EXPECT_EQ(next, 40u);
    }
}

// Defect: a replacing writer took the published tail (or, when the tail was impossible, the
// head) as a frame position without checking its alignment. The consumer maps the region
// writable; a tail of capacity - 4 made the writer store a padding frame's 8-byte state word
// across the buffer's end, into the embedded schema text that follows it.
TEST_F(ByteRingReview, AReplacingWriterNeverStoresPastTheBufferAtAForgedPosition) {
    constexpr std::uint64_t cap = 256;
    for (const bool impossible_tail : {false, true}) {
        SCOPED_TRACE(impossible_tail ? "forged head past the tail" : "forged tail");
        const std::string n = name();
        std::optional<shmrec::ByteRingWriter> w1(ByteRing::writer(n, message_type, cap));
        auto r = ByteRing::reader(n, message_type);
        w1.reset();
        std::byte* data = d::RegionAccess::data(r.region());
        auto& ctl = *reinterpret_cast<d::ByteRingControl*>(data);
        std::byte* after = data + sizeof(d::ByteRingControl) + cap;
        std::array<std::byte, 16> before{};
        std::memcpy(before.data(), after, before.size());
        if (impossible_tail) {
            ctl.ring.head.store(cap - 4);  // beyond the tail (0): the writer starts at the head
        } else {
            ctl.ring.head.store(cap - 4);
            ctl.ring.tail.store(cap - 4);
        }
        auto w2 = ByteRing::writer(n, message_type, 0, shmrec::OpenMode::open_only);
        EXPECT_EQ(w2.try_write(message(3)), WriteStatus::ok);
        EXPECT_EQ(std::memcmp(before.data(), after, before.size()), 0)
            << "the writer stored past the end of the buffer";
        EXPECT_EQ(ctl.ring.tail.load() % d::frame_alignment, 0u);
    }
}

// Defect: a consumer took the published head as a frame position without checking its
// alignment; at capacity - 4 its 8-byte state-word load read past the buffer's end. A head no
// frame can start at is corrupt.
TEST_F(ByteRingReview, AConsumerReportsAForgedHeadThatNoFrameCanStartAtAsCorrupt) {
    constexpr std::uint64_t cap = 256;
    const std::string n = name();
    auto w = ByteRing::writer(n, message_type, cap);
    auto& ctl = *reinterpret_cast<d::ByteRingControl*>(d::RegionAccess::data(w.region()));
    ctl.ring.head.store(cap - 4);  // a lying writer (or a broken previous consumer)
    auto r = ByteRing::reader(n, message_type);
    EXPECT_EQ(r.try_peek().status(), ReadStatus::corrupt);
    EXPECT_EQ(r.peek(10ms).status(), ReadStatus::corrupt);
}

// ---- table rings ----

using EnrolmentRing = shmrec::TableRing<school::Enrolment>;

std::vector<std::uint8_t> record(const std::string& note) {
    flatbuffers::FlatBufferBuilder fbb;
    school::Student s{};
    s.id = 7;
    s.name = "SecBug";
    fbb.Finish(school::CreateEnrolment(fbb, &s, 0, fbb.CreateString(note), 1.5f));
    return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// Defect: TableSample's defaulted moves left the moved-from sample holding the root and bytes
// of a record that its new owner may already have released (given back to the writer).
TEST_F(ByteRingReview, AMovedFromTableSampleHoldsNothing) {
    const std::string n = name();
    auto w = EnrolmentRing::writer(n, 4096);
    auto r = EnrolmentRing::reader(n);
    ASSERT_EQ(w.try_write(record("first")), WriteStatus::ok);
    auto a = r.try_peek();
    ASSERT_TRUE(a);
    auto b = std::move(a);
    EXPECT_FALSE(a);
    EXPECT_EQ(a.get(), nullptr);
    EXPECT_TRUE(a.bytes().empty());
    EXPECT_EQ(a.status(), ReadStatus::moved_from);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->note()->str(), "first");
    shmrec::TableSample<school::Enrolment> c;
    c = std::move(b);
    EXPECT_FALSE(b);
    EXPECT_EQ(b.get(), nullptr);
    EXPECT_EQ(c->note()->str(), "first");
}

// Defect: with TableReadOptions::copy every sample pointed into one buffer of the reader's,
// which the next read overwrote (or reallocated): a sample still held showed the next record.
TEST_F(ByteRingReview, ACopiedTableSampleKeepsItsRecordWhileTheNextIsRead) {
    const std::string n = name();
    auto w = EnrolmentRing::writer(n, 4096);
    shmrec::TableReadOptions copy;
    copy.copy = true;
    auto r = EnrolmentRing::reader(n, {}, {}, copy);
    ASSERT_EQ(w.try_write(record("first")), WriteStatus::ok);
    ASSERT_EQ(w.try_write(record("other")), WriteStatus::ok);  // the same size
    ASSERT_EQ(w.try_write(record("a longer third record, reallocating")), WriteStatus::ok);
    auto a = r.try_peek();
    ASSERT_TRUE(a);
    auto b = r.try_peek();
    ASSERT_TRUE(b);
    EXPECT_EQ(a->note()->str(), "first");
    EXPECT_EQ(b->note()->str(), "other");
    auto moved_reader = std::move(r);
    auto c = moved_reader.try_peek();
    ASSERT_TRUE(c);
    EXPECT_EQ(a->note()->str(), "first");
    EXPECT_EQ(b->note()->str(), "other");
    EXPECT_EQ(c->note()->str(), "a longer third record, reallocating");
}

}  // namespace
