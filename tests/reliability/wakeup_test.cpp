// Spurious wake-ups (RELIABILITY B4): a third process issues FUTEX_WAKE on the channel's
// futex words at random while a reader sleeps on them. Every wake-up is re-checked against
// the shared counters, so none becomes a delivery.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "reliability_support.hpp"
#include "reliability_test_support.hpp"

namespace reltest {
namespace {

class SpuriousWakeups : public ::testing::TestWithParam<const char*> {
protected:
    Names names_;
};

TEST_P(SpuriousWakeups, RandomFutexWakesNeverBecomeDeliveries) {
    const std::string kind = GetParam();
    const std::string name = names_.make("wake");
    const int records = 20;
    // A record every 50 ms and reads that time out after 30 ms: the reader spends most of
    // its time asleep on a futex, where the waker's wake-ups find it.
    Peer writer({"write", "--kind", kind, "--name", name, "--capacity", "8", "--count",
                 std::to_string(records), "--interval-us", "50000", "--wait-go"});
    ASSERT_FALSE(writer.expect_line("ready").empty());
    Peer reader({"read", "--kind", kind, "--name", name, "--timeout-ms", "30"});
    ASSERT_FALSE(reader.expect_line("ready").empty());
    Peer waker({"waker", "--kind", kind, "--name", name, "--duration-ms", "1200", "--seed",
                std::to_string(::getpid())});
    ASSERT_FALSE(waker.expect_line("waker started").empty());
    writer.send("go");
    ASSERT_TRUE(writer.wait_exit(15s).exited);
    ASSERT_TRUE(reader.wait_exit(15s).exited);
    ASSERT_TRUE(waker.wait_exit(15s).exited);
    const std::string woke = waker.expect_line("waker done", 1s);
    const ReaderLog log(reader.read_all(1s));
    std::cout << "B4 " << kind << ": " << woke << "; reader " << log.end << "\n";
    // The waker really woke sleeping readers, or the test proved nothing.
    EXPECT_GT(line_u64(woke, "woke"), 0u) << woke;
    EXPECT_EQ(log.bad(), 0u);
    EXPECT_GT(line_u64(log.end, "timeouts"), 0u) << log.end;
    EXPECT_EQ(line_u64(log.end, "false"), 0u) << log.end;
    EXPECT_EQ(line_u64(log.end, "order"), 0u) << log.end;
    if (kind == "cell") {
        ASSERT_FALSE(log.seqs().empty());
        EXPECT_EQ(log.seqs().back(), static_cast<std::uint64_t>(records - 1));
    } else {
        EXPECT_EQ(log.seqs(), iota_seqs(0, records)) << join(reader.lines());
    }
}

INSTANTIATE_TEST_SUITE_P(Wakeups, SpuriousWakeups, ::testing::Values("cell", "ring", "broadcast"),
                         [](const auto& param_info) { return std::string(param_info.param); });

}  // namespace
}  // namespace reltest
