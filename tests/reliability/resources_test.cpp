// OS resources and signals (RELIABILITY R1, R2, R6): a /dev/shm too small for the region, a
// /dev/shm that fills up after creation, and signals hitting blocked readers. These suites
// mount a private tmpfs (unshare) or measure time closely: label no-asan.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "reliability_support.hpp"
#include "reliability_test_support.hpp"

namespace reltest {
namespace {

// `unshare` arguments for a private mount namespace: as root a plain one, otherwise inside a
// user namespace too.
std::vector<std::string> unshare_args() {
    if (::geteuid() == 0) return {"-m"};
    return {"-Urm"};
}

// Runs the fault peer with `args` inside a private mount namespace whose /dev/shm is a fresh
// tmpfs of `size`.
std::unique_ptr<Child> peer_in_small_tmpfs(const std::string& size,
                                           const std::vector<std::string>& args) {
    std::vector<std::string> a = unshare_args();
    a.insert(a.end(), {"sh", "-c",
                       "mount -t tmpfs -o size=" + size +
                           " tmpfs /dev/shm || exit 97; exec \"$0\" \"$@\"",
                       SHMREC_FAULT_PEER});
    a.insert(a.end(), args.begin(), args.end());
    return std::make_unique<Child>("unshare", a);
}

bool can_unshare_mount() {
    std::vector<std::string> a = unshare_args();
    a.insert(a.end(), {"sh", "-c", "mount -t tmpfs -o size=64k tmpfs /dev/shm"});
    Child c("unshare", a);
    const ExitStatus s = c.wait_exit(10s);
    return s.exited && s.code == 0;
}

class SmallTmpfs : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        if (!can_unshare_mount()) GTEST_SKIP() << "cannot unshare a mount namespace here";
    }
    Names names_;
};

// R1: a 1 MiB region in a 256 KiB /dev/shm: create fails with no_space (posix_fallocate's
// ENOSPC), the process exits normally with its "create failed" status (no SIGBUS), and no
// file is left behind.
TEST_P(SmallTmpfs, RegionLargerThanShmFailsWithNoSpaceAndLeavesNoFile) {
    const std::string kind = GetParam();
    const std::string name = names_.make("nospace");
    // 16384 slots of 64 bytes: 1 MiB of records.
    auto peer = peer_in_small_tmpfs(
        "256k", {"write", "--kind", kind, "--name", name, "--capacity", "16384", "--count", "10",
                 "--list-shm"});
    const ExitStatus s = peer->wait_exit(20s);
    const auto lines = peer->read_all(1s);
    ASSERT_TRUE(s.exited) << s.describe() << join(lines);
    ASSERT_NE(s.code, 97) << "mount failed" << join(lines);
    EXPECT_EQ(s.code, 3) << join(lines);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(line_value(lines[0], "code"), "no_space") << lines[0];
    ASSERT_GE(lines.size(), 2u);
    EXPECT_EQ(lines[1], "shm-entries n=0") << join(lines);
    EXPECT_EQ(shm_entries_named(name), 0u);  // and nothing leaked to the real /dev/shm
}

// R4: a file size limit (RLIMIT_FSIZE) below the region's size. Growing the file would raise
// SIGXFSZ and kill the process; create refuses first with no_space, the process exits with
// its "create failed" status, and no file is left behind.
TEST(Resources, FileSizeLimitBelowTheRegionIsNoSpaceNotSIGXFSZ) {
    Names names;
    const std::string name = names.make("fsize");
    Child peer("prlimit", {"--fsize=65536", SHMREC_FAULT_PEER, "write", "--kind", "ring",
                           "--name", name, "--capacity", "16384", "--count", "10"});
    const ExitStatus s = peer.wait_exit(20s);
    const auto lines = peer.read_all(1s);
    ASSERT_TRUE(s.exited) << s.describe() << join(lines);
    EXPECT_EQ(s.code, 3) << join(lines);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(line_value(lines[0], "code"), "no_space") << lines[0];
    EXPECT_EQ(shm_entries_named(name), 0u);
}

// R3: posix_fallocate interrupted (EINTR, three times) is retried; unsupported (EOPNOTSUPP)
// falls back to ftruncate; out of space (ENOSPC) is no_space with no file left. Injected at
// the fault point "create.fallocate" of the fault-injection build.
TEST(Resources, FallocateInterruptedOrUnsupportedStillCreatesAndNoSpaceLeavesNothing) {
    struct Case {
        const char* fault;
        int exit_code;
        const char* code;  // the peer's reported error, when it fails
    };
    for (const Case c : {Case{"create.fallocate:3:errno=EINTR", 0, ""},
                         Case{"create.fallocate:1:errno=EOPNOTSUPP", 0, ""},
                         Case{"create.fallocate:1:errno=ENOSPC", 3, "no_space"}}) {
        SCOPED_TRACE(c.fault);
        Names names;
        const std::string name = names.make("fallocate");
        Peer peer({"write", "--kind", "cell", "--name", name, "--count", "3"}, c.fault);
        const ExitStatus s = peer.wait_exit(20s);
        const auto lines = peer.read_all(1s);
        ASSERT_TRUE(s.exited) << s.describe() << join(lines);
        EXPECT_EQ(s.code, c.exit_code) << join(lines);
        if (c.exit_code != 0) {
            ASSERT_FALSE(lines.empty());
            EXPECT_EQ(line_value(lines[0], "code"), c.code) << lines[0];
            EXPECT_EQ(shm_entries_named(name), 0u);
        } else {
            ASSERT_FALSE(lines.empty());
            EXPECT_TRUE(starts_with(lines.back(), "done")) << join(lines);
        }
    }
}

// R2: a 1 MiB region in a 2 MiB /dev/shm, then the rest of the tmpfs filled by another file
// (another tenant). The region's pages were pre-allocated: traffic through it (the ring wraps
// twice) goes on with no SIGBUS, while a second region no longer fits (no_space).
TEST_P(SmallTmpfs, ShmFilledAfterCreationDoesNotBreakTraffic) {
    const std::string kind = GetParam();
    const std::string name = names_.make("full");
    const int count = 40000;
    auto peer = peer_in_small_tmpfs("2m", {"fill-tmpfs", "--kind", kind, "--name", name,
                                           "--capacity", "16384", "--count",
                                           std::to_string(count)});
    const ExitStatus s = peer->wait_exit(60s);
    const auto lines = peer->read_all(1s);
    ASSERT_TRUE(s.exited) << s.describe() << join(lines);
    EXPECT_EQ(s.code, 0) << join(lines);
    std::string filled, second, reader, done;
    for (const auto& l : lines) {
        if (starts_with(l, "filled")) filled = l;
        if (starts_with(l, "second-create")) second = l;
        if (starts_with(l, "reader")) reader = l;
        if (starts_with(l, "fill-done")) done = l;
    }
    std::cout << "R2 " << kind << ": " << filled << "; " << reader << "\n";
    ASSERT_FALSE(filled.empty()) << join(lines);
    EXPECT_GT(line_u64(filled, "bytes"), 0u);
    EXPECT_LT(line_u64(filled, "free"), 64u * 1024) << "the tmpfs was not filled";
    EXPECT_EQ(line_value(second, "code"), "no_space") << second;
    ASSERT_FALSE(reader.empty()) << join(lines);
    EXPECT_EQ(line_u64(reader, "bad"), 0u) << reader;
    EXPECT_EQ(line_u64(reader, "order"), 0u) << reader;
    EXPECT_EQ(line_u64(reader, "received") + line_u64(reader, "lost"),
              static_cast<std::uint64_t>(count))
        << reader;
    if (kind == "ring") {
        EXPECT_EQ(line_u64(reader, "received"), static_cast<std::uint64_t>(count));
    }
    EXPECT_EQ(line_value(done, "child_exit"), "0") << done;
}

INSTANTIATE_TEST_SUITE_P(Resources, SmallTmpfs, ::testing::Values("ring", "broadcast"),
                         [](const auto& param_info) { return std::string(param_info.param); });

// Sends SIGUSR1 to `pid` about every `period` until stopped.
class SignalStorm {
public:
    SignalStorm(pid_t pid, std::chrono::microseconds period)
        : thread_([this, pid, period] {
              while (!stop_.load()) {
                  ::kill(pid, SIGUSR1);
                  ++sent_;
                  std::this_thread::sleep_for(period);
              }
          }) {}
    ~SignalStorm() { stop(); }
    SignalStorm(const SignalStorm&) = delete;
    SignalStorm& operator=(const SignalStorm&) = delete;
    long stop() {
        stop_.store(true);
        if (thread_.joinable()) thread_.join();
        return sent_;
    }

private:
    std::atomic<bool> stop_{false};
    long sent_ = 0;
    std::thread thread_;
};

class WaitTiming : public ::testing::TestWithParam<const char*> {
protected:
    Names names_;
};

// R6: SIGUSR1 at about 1 kHz (handler installed without SA_RESTART, so every blocking system
// call sees EINTR) to a reader blocked in its reads while records flow: all are delivered,
// in order, intact.
TEST_P(WaitTiming, SignalsDuringBlockingReadsLoseNothing) {
    const std::string kind = GetParam();
    const std::string name = names_.make("eintr");
    const int count = 3000;
    Peer writer({"write", "--kind", kind, "--name", name, "--capacity", "1024", "--count",
                 std::to_string(count), "--interval-us", "200", "--wait-go"});
    ASSERT_FALSE(writer.expect_line("ready").empty());
    Peer reader({"read", "--kind", kind, "--name", name, "--quiet", "--sigusr1", "--timeout-ms",
                 "100"});
    ASSERT_FALSE(reader.expect_line("ready").empty());
    SignalStorm storm(reader.pid(), 1ms);
    writer.send("go");
    ASSERT_TRUE(writer.wait_exit(30s).exited);
    ASSERT_TRUE(reader.wait_exit(30s).exited);
    const long sent = storm.stop();
    const std::string end = reader.expect_line("end", 1s);
    ASSERT_FALSE(end.empty()) << join(reader.lines());
    std::cout << "R6 " << kind << ": signals sent " << sent << "; reader " << end << "\n";
    EXPECT_GT(line_u64(end, "signals"), 100u);
    EXPECT_EQ(line_u64(end, "bad"), 0u);
    EXPECT_EQ(line_u64(end, "order"), 0u);
    EXPECT_EQ(line_value(end, "last"), std::to_string(count - 1));
    if (kind != "cell") {
        EXPECT_EQ(line_u64(end, "received"), static_cast<std::uint64_t>(count));
        EXPECT_EQ(line_u64(end, "gaps"), 0u);
    } else {
        EXPECT_EQ(line_u64(end, "false"), 0u);
    }
}

// R6: a wait that only times out keeps its duration under the same signal storm: the
// deadline is absolute (steady clock), so EINTR neither cuts it short nor restarts it. Oracle:
// timeout +-10%, plus 30 ms for scheduling on a loaded 2-core machine.
TEST_P(WaitTiming, TimeoutOnlyWaitKeepsItsDurationUnderSignals) {
    const std::string kind = GetParam();
    const std::string name = names_.make("eintr-timeout");
    const double wait_ms = 200;
    // An idle, live writer: the waits below can only time out.
    Peer writer({"write", "--kind", kind, "--name", name, "--capacity", "8", "--count", "1",
                 "--wait-go"});
    ASSERT_FALSE(writer.expect_line("ready").empty());
    for (const bool signals : {false, true}) {
        SCOPED_TRACE(signals ? "with SIGUSR1 at 1 kHz" : "quiet");
        std::vector<std::string> args = {"timed-wait", "--kind", kind, "--name", name,
                                         "--wait-ms", "200", "--repeat", "4"};
        if (signals) args.push_back("--sigusr1");
        Peer waiter(args);
        ASSERT_FALSE(waiter.expect_line("ready").empty());
        std::unique_ptr<SignalStorm> storm;
        if (signals) storm = std::make_unique<SignalStorm>(waiter.pid(), 1ms);
        waiter.send("go");
        ASSERT_TRUE(waiter.wait_exit(10s).exited);
        if (storm) storm->stop();
        std::string durations, end;
        for (const auto& l : waiter.read_all(1s)) {
            if (starts_with(l, "end")) end = l;
            if (!starts_with(l, "waited")) continue;
            const double ms = std::stod(line_value(l, "ms"));
            durations += " " + std::to_string(static_cast<int>(ms));
            EXPECT_EQ(line_value(l, "status"), "timeout") << l;
            EXPECT_GE(ms, wait_ms * 0.9) << l;
            EXPECT_GE(ms, wait_ms - 1.0) << "a timeout ended early: " << l;
            EXPECT_LE(ms, wait_ms * 1.1 + 30.0) << l;
        }
        ASSERT_FALSE(end.empty()) << join(waiter.lines());
        if (signals) {
            EXPECT_GT(line_u64(end, "signals"), 300u) << end;
        }
        std::cout << "R6 " << kind << (signals ? " signals" : " quiet") << ": waits of 200 ms took"
                  << durations << " ms; " << end << "\n";
    }
    writer.send("quit");
    EXPECT_TRUE(writer.wait_exit(exit_timeout).exited);
}

INSTANTIATE_TEST_SUITE_P(Resources, WaitTiming, ::testing::Values("cell", "ring", "broadcast"),
                         [](const auto& param_info) { return std::string(param_info.param); });

}  // namespace
}  // namespace reltest
