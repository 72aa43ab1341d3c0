// Regression tests for the defects the adversarial review of ByteBroadcast found, one test per
// defect, plus the crash tests of RELIABILITY L1/L2 for it: a writer killed at the fault points
// byte_broadcast.before_commit / before_tail (byte_broadcast_review_peer, built with the fault
// points), a new writer taking over, readers going on with nothing duplicated and losses exact.
//
// Positions below are worked out for a buffer of 1024 bytes; a frame of a message of n bytes
// takes round_up(24 + n, 16) bytes (detail/byte_ring_layout.hpp).
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "byte_broadcast_review_support.hpp"
#include "child_process.hpp"
#include "shmrec/untyped.hpp"
#include "printers.hpp"
#include "shmrec/byte_broadcast.hpp"
#include "shmrec/detail/region_access.hpp"
#include "test_names.hpp"

namespace {

using namespace std::chrono_literals;
using bbreview::intact;
using bbreview::message;
using bbreview::quote_type;
using shmrec::ByteBroadcast;
using shmrec::OpenMode;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
namespace d = shmrec::detail;

constexpr std::uint64_t cap = 1024;

// The review peer writing `specs` as the broadcast's writer (open_only), killed at `fault`
// ("<point>:<n>:kill") when given.
std::unique_ptr<shmrec_test::ChildProcess> peer_writer(const std::string& name,
                                                       const std::vector<std::string>& specs,
                                                       const std::string& fault = {}) {
    std::vector<std::string> args{"write", name};
    args.insert(args.end(), specs.begin(), specs.end());
    shmrec_test::SpawnOptions options;
    if (!fault.empty()) options.env.push_back("SHMREC_FAULT=" + fault);
    return std::make_unique<shmrec_test::ChildProcess>(SHMREC_BB_REVIEW_PEER, args, options);
}

d::ByteBroadcastControl& control_of(const shmrec::Region& region) {
    return *reinterpret_cast<d::ByteBroadcastControl*>(d::RegionAccess::data(region));
}
std::byte* buffer_of(const shmrec::Region& region) {
    return d::RegionAccess::data(region) + sizeof(d::ByteBroadcastControl);
}

// What a reader saw, checked as it goes: every message intact, numbered by its content as the
// reader's sequence says, in increasing order.
struct Tally {
    std::uint64_t received = 0;
    std::uint64_t bad = 0;        // not intact, or its content disagrees with its sequence
    std::uint64_t disorder = 0;   // a number not above the last one (a duplicate)
    std::int64_t last = -1;

    ReadStatus drain(ByteBroadcast::Reader& r) {
        std::vector<std::byte> m;
        for (;;) {
            const ReadStatus s = r.try_read(m);
            if (s != ReadStatus::ok) return s;
            ++received;
            std::uint64_t k = 0;
            if (!intact(m, k) || k != r.next_sequence() - 1) {
                ++bad;
            } else if (static_cast<std::int64_t>(k) <= last) {
                ++disorder;
            } else {
                last = static_cast<std::int64_t>(k);
            }
        }
    }
};

class ByteBroadcastReview : public shmrec_test::RegionFixture {};

// Defect: a writer that died in the middle of a frame had announced in `claimed` the bytes it
// was changing; its successor stored its own, smaller `claimed` over it, so a reader whose frame
// the dead writer had half overwritten saw "not lapped" and accepted what it copied. Here the
// dead writer's payload happens to carry the image of a frame (any payload bytes may): the
// reader took it for message 1.
TEST_F(ByteBroadcastReview, AWriterDeadMidFrameLeavesItsClaimForItsSuccessor) {
    const std::string n = name();
    auto reader = [&] {
        auto w0 = ByteBroadcast::writer(n, quote_type, cap);
        auto r = ByteBroadcast::reader(n, quote_type);  // at 0, expecting message 0
        // Messages 0-3 at [0,256) [256,512) [512,768) [768,1008): claimed 1024, no lap yet.
        for (const std::size_t size : {232u, 232u, 232u, 216u}) {
            EXPECT_EQ(w0.try_write(message(w0.written(), size)), WriteStatus::ok);
        }
        return r;
    }();
    Tally tally;
    std::vector<std::byte> m;
    ASSERT_EQ(reader.try_read(m), ReadStatus::ok);  // message 0; now at 256
    ++tally.received;
    tally.last = 0;

    // The peer writes message 4 (488 bytes: padding [1008,1024), the frame [1024,1536), claimed
    // 1552, so oldest 768) and is killed before committing it. Its payload starts at 1048, so
    // payload byte 232 lands on 1280: the state word of message 1's bytes at 256.
    auto dead = peer_writer(n, {"image:488:232:256:1"}, "byte_broadcast.before_commit:1:kill");
    EXPECT_EQ(dead->wait_exit(), shmrec_test::ExitStatus::killed(SIGKILL));

    // The successor continues at 1024 with message 4, a small one: its own claim is 1072.
    auto w2 = ByteBroadcast::writer(n, quote_type, 0, OpenMode::open_only);
    ASSERT_EQ(w2.written(), 4u);
    ASSERT_EQ(w2.try_write(message(4, 8)), WriteStatus::ok);
    EXPECT_EQ(control_of(w2.region()).claimed.load(), 1552u)
        << "claimed went below what the dead writer had announced";

    const ReadStatus s = tally.drain(reader);
    EXPECT_EQ(s, ReadStatus::empty);
    EXPECT_EQ(tally.bad, 0u) << "accepted bytes the dead writer was overwriting";
    EXPECT_EQ(tally.disorder, 0u);
    // Messages 1 and 2 were overwritten (lost); 3 and 4 received.
    EXPECT_EQ(reader.received(), 3u);
    EXPECT_EQ(reader.lost(), 2u);
    EXPECT_EQ(reader.received() + reader.lost(), 5u);
    EXPECT_EQ(tally.last, 4);
}

// Defect: a reader trusted positions from shared memory to be frame starts (multiples of 16):
// a tail (or oldest, latest) a few bytes short of the buffer's end made it load a state word
// reaching past the buffer (into the schema area behind it) with a misaligned atomic load.
TEST_F(ByteBroadcastReview, AReaderNeverLoadsAStateWordAtAMisalignedPosition) {
    const std::string n = name();
    auto w = ByteBroadcast::writer(n, quote_type, cap);
    auto& ctl = control_of(w.region());
    std::vector<std::byte> m;

    // A tail 4 bytes short of the end of the second lap: the state word there straddles the
    // buffer's end.
    ctl.tail.store(2 * cap - 4);
    auto at_tail = ByteBroadcast::reader(n, quote_type);
    EXPECT_EQ(at_tail.try_read(m), ReadStatus::corrupt);

    // A lapped reader sent to a misaligned oldest.
    ctl.tail.store(0);
    auto lapped = ByteBroadcast::reader(n, quote_type);  // at 0
    ctl.oldest.store(cap - 4);
    ctl.claimed.store(cap + 32);
    EXPECT_EQ(lapped.try_read(m), ReadStatus::corrupt);
    EXPECT_EQ(lapped.position() % d::frame_alignment, 0u);

    // A newest reader anchored at a misaligned latest.
    ctl.claimed.store(cap);
    ctl.tail.store(cap);
    ctl.latest.store(cap - 4);
    auto newest = ByteBroadcast::reader(n, quote_type, shmrec::StartAt::newest);
    EXPECT_EQ(newest.position() % d::frame_alignment, 0u);
}

// Defect: a writer taking over trusted its predecessor's tail to be a frame start: from a tail
// 4 bytes short of the buffer's end it wrote an 8-byte padding state word there, 4 bytes of it
// past the buffer, over the region's schema.
TEST_F(ByteBroadcastReview, AWriterTakingOverNeverWritesPastTheBuffer) {
    const std::string n = name();
    std::array<std::byte, 64> behind{};
    // A paging-file region (Windows) lives only while a handle does: hold one across the gap.
    std::optional<shmrec::ChannelMonitor> hold;
    {
        auto w0 = ByteBroadcast::writer(n, quote_type, cap);
        hold.emplace(shmrec::ChannelMonitor::open(n));
        control_of(w0.region()).tail.store(cap - 4);
        std::memcpy(behind.data(), buffer_of(w0.region()) + cap, behind.size());
    }
    auto w1 = ByteBroadcast::writer(n, quote_type, 0, OpenMode::open_only);
    EXPECT_EQ(w1.try_write(message(0, 40)), WriteStatus::ok);
    EXPECT_EQ(std::memcmp(behind.data(), buffer_of(w1.region()) + cap, behind.size()), 0)
        << "the writer changed bytes behind its buffer";
    auto r = ByteBroadcast::reader(n, quote_type, shmrec::StartAt::newest);
    std::vector<std::byte> m;
    std::uint64_t k = 0;
    ASSERT_EQ(r.try_read(m), ReadStatus::ok);
    EXPECT_TRUE(intact(m, k));
}

// RELIABILITY L1/L2 for the byte broadcast, Loop-N style: the writer is killed at the n-th hit
// of the point (the first before_tail hit is its attach), a new writer takes over and writes
// on. A reader that kept up and one that reads only at the end (lapped many times) see every
// message intact, none twice, and received + lost == every message committed.
class ByteBroadcastWriterKilled : public shmrec_test::RegionFixture,
                                  public ::testing::WithParamInterface<const char*> {};

TEST_P(ByteBroadcastWriterKilled, ANewWriterTakesOverNothingDuplicatedLossesExact) {
    const std::string point = GetParam();
    // Sizes that wrap the 1024-byte buffer at varying offsets, with padding now and then.
    std::vector<std::string> specs;
    for (std::uint64_t k = 0; k < 24; ++k) specs.push_back(std::to_string(8 + (k * 53) % 300));
    for (int hit = 1; hit <= 26; ++hit) {
        SCOPED_TRACE(point + ":" + std::to_string(hit));
        const std::string n = name();
        std::optional<shmrec::ChannelMonitor> hold;  // keeps a paging-file region (Windows)
        {
            auto w0 = ByteBroadcast::writer(n, quote_type, cap);
            hold.emplace(shmrec::ChannelMonitor::open(n));
        }
        auto keeping_up = ByteBroadcast::reader(n, quote_type);
        auto at_the_end = ByteBroadcast::reader(n, quote_type);
        Tally up, end;

        auto w1 = peer_writer(n, specs, point + ":" + std::to_string(hit) + ":kill");
        const auto exit = w1->wait_exit();
        // Committed before the kill: hit - 1 messages (before_tail's first hit is the attach).
        const std::uint64_t committed = exit.ok() ? specs.size() : static_cast<std::uint64_t>(hit - 1);
        if (!exit.ok()) {
            EXPECT_EQ(exit, shmrec_test::ExitStatus::killed(SIGKILL));
        }
        up.drain(keeping_up);

        auto w2 = ByteBroadcast::writer(n, quote_type, 0, OpenMode::open_only);
        ASSERT_EQ(w2.written(), committed) << "the new writer renumbers or skips messages";
        for (std::uint64_t k = committed; k < committed + 20; ++k) {
            ASSERT_EQ(w2.try_write(message(k, 8 + (k * 29) % 250)), WriteStatus::ok);
            if (k % 3 == 0) up.drain(keeping_up);
        }
        const std::uint64_t total = committed + 20;
        up.drain(keeping_up);
        end.drain(at_the_end);
        for (auto* t : {&up, &end}) {
            EXPECT_EQ(t->bad, 0u);
            EXPECT_EQ(t->disorder, 0u);
            EXPECT_EQ(t->last, static_cast<std::int64_t>(total - 1));
        }
        EXPECT_EQ(keeping_up.received() + keeping_up.lost(), total);
        EXPECT_EQ(at_the_end.received() + at_the_end.lost(), total);
        EXPECT_GT(at_the_end.lost(), 0u);
        if (exit.ok()) break;  // the point is no longer reached: done
    }
}

std::string point_name(const ::testing::TestParamInfo<const char*>& point) {
    return point.index == 0 ? "BeforeCommit" : "BeforeTail";
}

INSTANTIATE_TEST_SUITE_P(Points, ByteBroadcastWriterKilled,
                         ::testing::Values("byte_broadcast.before_commit",
                                           "byte_broadcast.before_tail"),
                         point_name);

}  // namespace
