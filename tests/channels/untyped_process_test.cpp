// Run-time-typed handles between real processes: a ring observer in another process while the
// consumer takes every record, and the reader cursor of a reader process killed with its slot.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdint>
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
// records a millisecond: about 100 ms of slack per lap, so it keeps up and sees every record,
// intact and at its position, while the consumer (a thread here) still gets all of them in
// order: the observer took none.
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
    EXPECT_EQ(chantest::num(kv, "missed"), 0u) << "the observer fell a lap behind";
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

}  // namespace
