// Run-time-typed handles between real processes: a ring observer in another process while the
// consumer takes every record, the reader cursor of a reader process killed with its slot, and
// an untyped ring consumer killed between peek and release.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdint>
#include <cstring>
#include <vector>
#include <string>
#include <thread>

#include "channel_test_support.hpp"
#include "shmrec/broadcast.hpp"
#include "shmrec/ring.hpp"
#include "shmrec/untyped.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using chantest::ExitStatus;
using chantest::Peer;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec_test::Checked;

class UntypedProcesses : public shmrec_test::RegionFixture {};

// The observer process polls (~1 ms) while the writer laps a 1024-slot ring five times, 10
// records a millisecond: every record it copies is intact and at its position, every one it
// misses is counted, and the consumer (a thread here) still gets all of them in order: the
// observer took none.
TEST_F(UntypedProcesses, RingObserverProcessSeesEveryRecordAndTheConsumerStillGetsAll) {
    const std::string region = name();
    constexpr std::uint64_t records = 5000;
    auto writer = shmrec::Ring<Checked>::writer(region, 1024);
    auto consumer = shmrec::Ring<Checked>::reader(region);
    Peer observer({"ring-observe", region});
    ASSERT_EQ(chantest::num(observer.expect("ready"), "start"), 0u);

    chantest::StreamCheck consumed;
    std::thread consuming([&] {
        Checked r{};
        while (consumer.read(r, 10s) == ReadStatus::ok) consumed.see(r);
    });
    for (std::uint64_t seq = 0; seq < records; ++seq) {
        ASSERT_EQ(writer.write(chantest::make_checked(seq), 10s), WriteStatus::ok);
        if (seq % 10 == 9) std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(writer.drain(10s), WriteStatus::ok);
    writer.close();
    consuming.join();
    const auto kv = observer.expect("done", 30s);
    EXPECT_EQ(observer.wait_exit(chantest::peer_exit_timeout), ExitStatus::code_of(0));
    ASSERT_FALSE(kv.empty());
    std::printf("  observer: %s\n", kv.at("").c_str());

    EXPECT_EQ(consumed.count, records);
    EXPECT_EQ(consumed.bad, 0u);
    EXPECT_EQ(consumed.out_of_order, 0u);
    EXPECT_EQ(kv.at("status"), "closed");
    EXPECT_EQ(chantest::num(kv, "bad"), 0u);
    EXPECT_EQ(chantest::num(kv, "posmismatch"), 0u);
    EXPECT_EQ(chantest::num(kv, "received") + chantest::num(kv, "missed"), records);
    // Whether it keeps up is the scheduler's business on a loaded machine (the step-by-step
    // test in untyped_test.cpp proves it sees everything while it does): here, what it copied
    // is intact and what it missed is counted exactly.
    EXPECT_GT(chantest::num(kv, "received"), 0u);
    EXPECT_EQ(chantest::num(kv, "position"), records);
}

// A reader process publishes its cursor; killed (-9) holding its slot, it is no longer listed.
TEST_F(UntypedProcesses, KilledReadersCursorIsNotListed) {
    const std::string region = name();
    auto writer = shmrec::Broadcast<Checked>::writer(region, 64);
    Peer reader({"broadcast-cursor", region, "10"});
    ASSERT_FALSE(reader.expect("ready").empty());
    auto monitor = shmrec::ChannelMonitor::open(region);
    ASSERT_EQ(monitor.state().readers.size(), 1u);
    for (std::uint64_t i = 0; i < 10; ++i) {
        ASSERT_EQ(writer.try_write(chantest::make_checked(i)), WriteStatus::ok);
    }
    const auto kv = reader.expect("read");
    ASSERT_EQ(chantest::num(kv, "n"), 10u);
    auto s = monitor.state();
    ASSERT_EQ(s.readers.size(), 1u);
    EXPECT_EQ(s.readers[0].received, 10u);
    EXPECT_EQ(s.readers[0].position, 10u);
    EXPECT_EQ(s.readers[0].lost, 0u);
    EXPECT_EQ(writer.readers(), 1u);

    reader.signal(SIGKILL);
    EXPECT_EQ(reader.wait_exit(10s), ExitStatus::killed(SIGKILL));
    s = monitor.state();
    EXPECT_TRUE(s.readers.empty());
    EXPECT_EQ(s.written, 10u);
}

// A consumer killed inside release(), after peek_batch copied its records and before any was
// consumed (fault point consume.before_release, in the peer built with fault points): the
// records stay in the ring, and the next consumer gets them first, from the same position.
// Killed in its second release, the first release's record stays consumed: what the successor
// gets again is exactly what was peeked and not released. Nothing lost, nothing else repeated.
TEST_F(UntypedProcesses, ConsumerKilledBetweenPeekAndReleaseLeavesTheRecordsForItsSuccessor) {
    constexpr std::uint64_t records = 10;
    for (const int kill_at : {1, 2}) {
        SCOPED_TRACE("killed in release number " + std::to_string(kill_at));
        const std::string region = name(kill_at == 1 ? "first" : "second");
        auto writer = shmrec::Ring<Checked>::writer(region, 16);
        for (std::uint64_t i = 0; i < records; ++i) {
            ASSERT_EQ(writer.try_write(chantest::make_checked(i)), WriteStatus::ok);
        }
        Peer first({"ring-peek-release", region, "4", "1"},
                   "consume.before_release:" + std::to_string(kill_at) + ":kill");
        ASSERT_EQ(chantest::num(first.expect("attached"), "consumed"), 0u);
        const auto peeked = first.expect("peeked");
        ASSERT_FALSE(peeked.empty());
        EXPECT_EQ(chantest::num(peeked, "count"), 4u);
        EXPECT_EQ(chantest::num(peeked, "first"), 0u);
        EXPECT_EQ(chantest::num(peeked, "last"), 3u);
        EXPECT_EQ(chantest::num(peeked, "bad"), 0u);
        std::uint64_t released = 0;
        if (kill_at == 2) {
            const auto r = first.expect("released");
            EXPECT_EQ(chantest::num(r, "n"), 1u);
            EXPECT_EQ(chantest::num(r, "consumed"), 1u);
            released = 1;
        }
        EXPECT_EQ(first.wait_exit(10s), ExitStatus::killed(SIGKILL));
        // The dead consumer's lock went with it: the role is free, its head where it left it.
        EXPECT_EQ(writer.written(), records);
        auto next = shmrec::untyped::ring_reader(region);
        EXPECT_EQ(next.consumed(), released);
        std::vector<std::byte> out(16 * sizeof(Checked));
        const auto r = next.try_peek_batch(out);
        ASSERT_EQ(r.status, ReadStatus::ok);
        ASSERT_EQ(r.count, records - released);
        for (std::size_t i = 0; i < r.count; ++i) {
            Checked c{};
            std::memcpy(&c, out.data() + i * sizeof(Checked), sizeof(Checked));
            EXPECT_TRUE(chantest::intact(c)) << i;
            EXPECT_EQ(c.seq, released + i);
        }
        EXPECT_EQ(next.release(r.count), r.count);
        EXPECT_EQ(next.consumed(), records);
        EXPECT_EQ(next.try_peek_batch(out).status, ReadStatus::empty);
    }
}

}  // namespace
