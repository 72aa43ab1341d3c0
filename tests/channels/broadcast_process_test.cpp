// Broadcast<T> between real processes: this test writes, shmrec_channel_peer processes read.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "channel_test_support.hpp"
#include "shmrec/broadcast.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using chantest::Clock;
using chantest::ExitStatus;
using chantest::Peer;
using shmrec_test::Checked;
using CheckedBroadcast = shmrec::Broadcast<Checked>;

constexpr std::uint64_t stream_records = shmrec_test::under_sanitizer ? 200'000 : 2'000'000;

class BroadcastProcesses : public shmrec_test::RegionFixture {};

void expect_exact(const std::map<std::string, std::string>& kv, std::uint64_t written,
                  const char* who) {
    SCOPED_TRACE(who);
    ASSERT_FALSE(kv.empty()) << "no report";
    const auto received = chantest::num(kv, "received");
    const auto lost = chantest::num(kv, "lost");
    EXPECT_EQ(kv.at("status"), "closed") << kv.at("");
    EXPECT_EQ(received + lost, written) << kv.at("");
    EXPECT_EQ(chantest::num(kv, "position") - chantest::num(kv, "start"), received + lost);
    EXPECT_EQ(chantest::num(kv, "bad"), 0u) << kv.at("");
    EXPECT_EQ(chantest::num(kv, "nonincreasing"), 0u) << kv.at("");
    EXPECT_EQ(chantest::num(kv, "posmismatch"), 0u) << kv.at("");
}

// RELIABILITY C13-like: a fast reader process and a deliberately slow one (200 us sleep every
// 16 records). Each accounts exactly for every record (received + lost == written) and every
// record it received is intact and newer than the previous one.
TEST_F(BroadcastProcesses, FastAndSlowReaderProcessesAccountForEveryRecord) {
    const std::string region = name("bcast");
    auto writer = CheckedBroadcast::writer(region, 1024);
    Peer fast({"broadcast-read", region, "0", "0"});
    Peer slow({"broadcast-read", region, "16", "200"});
    ASSERT_EQ(chantest::num(fast.expect("ready"), "start"), 0u);
    ASSERT_EQ(chantest::num(slow.expect("ready"), "start"), 0u);

    const auto start = Clock::now();
    std::vector<Checked> batch(16);
    for (std::uint64_t seq = 0; seq < stream_records;) {
        for (auto& b : batch) b = chantest::make_checked(seq++);
        ASSERT_EQ(writer.try_write(std::span<const Checked>(batch)).status, shmrec::WriteStatus::ok);
        if (seq % 1024 == 0) std::this_thread::sleep_for(20us);  // pace so the fast one keeps up
    }
    const std::uint64_t written = writer.written();
    const double ms = chantest::ms_since(start);
    writer.close();
    const auto f = fast.expect("done", 60s);
    const auto s = slow.expect("done", 60s);
    EXPECT_EQ(fast.wait_exit(chantest::peer_exit_timeout), ExitStatus::code_of(0));
    EXPECT_EQ(slow.wait_exit(chantest::peer_exit_timeout), ExitStatus::code_of(0));

    std::printf("  wrote %llu in %.0f ms\n  fast: %s\n  slow: %s\n",
                static_cast<unsigned long long>(written), ms,
                f.count("") ? f.at("").c_str() : "-", s.count("") ? s.at("").c_str() : "-");
    ASSERT_EQ(written, stream_records);
    expect_exact(f, written, "fast");
    expect_exact(s, written, "slow");
    EXPECT_GT(chantest::num(s, "lost"), 0u) << "the slow reader was never lapped";
    RecordProperty("slow_lost", s.count("lost") ? s.at("lost") : "-");
    RecordProperty("fast_lost", f.count("lost") ? f.at("lost") : "-");
}

}  // namespace
