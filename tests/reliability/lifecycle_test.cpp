// Lifecycle under faults (RELIABILITY L3, L5, L7, L8, L10, L11, L12): stopped writers, stale
// regions, creation races, writer takeover, handles inherited through fork(), double opens in
// one process, and names removed from under a live pair.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#if defined(_WIN32)
#include <io.h>
#else
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "reliability_support.hpp"
#include "reliability_test_support.hpp"
#include "shmrec/shmrec.hpp"

namespace reltest {
namespace {

using shmrec_test::Checked;

struct KindPoint {
    const char* kind;
    const char* point;
};

std::string kind_name(const ::testing::TestParamInfo<const char*>& i) { return i.param; }

// ---- L3 ------------------------------------------------------------------------------------

class StoppedWriter : public ::testing::TestWithParam<KindPoint> {
protected:
    Names names_;
};

// L3: a writer stopped (SIGSTOP) in the middle of a record is not dead: writer_alive() stays
// true and the reader's blocking reads time out instead of reporting writer_gone. After
// SIGCONT every record arrives, in order.
TEST_P(StoppedWriter, ReaderTimesOutWithoutDeclaringItDeadAndLosesNothingAfterCont) {
    const KindPoint p = GetParam();
    const std::string kind = p.kind;
    const std::string name = names_.make("stop");
    const int records = 20;
    Peer writer({"write", "--kind", kind, "--name", name, "--capacity", "32", "--count",
                 std::to_string(records), "--wait-go"},
                std::string(p.point) + ":5:stop");
    ASSERT_FALSE(writer.expect_line("ready").empty());
    Peer reader({"read", "--kind", kind, "--name", name, "--timeout-ms", "50"});
    ASSERT_FALSE(reader.expect_line("ready").empty());
    writer.send("go");
    ASSERT_TRUE(writer.wait_stopped(5s));

    // Several of the reader's 50 ms timeouts pass while the writer is stopped.
    std::this_thread::sleep_for(400ms);
    reader.send("alive");
    const std::string alive = reader.expect_line("alive", 5s);
    EXPECT_EQ(line_value(alive, "value"), "1") << alive;
    reader.send("stats");
    const std::string stats = reader.expect_line("stats", 5s);
    EXPECT_EQ(line_u64(stats, "gone"), 0u) << stats;
    EXPECT_GE(line_u64(stats, "timeouts"), 1u) << stats;
    EXPECT_EQ(line_u64(stats, "received") > 0, true) << stats;  // records 0..3 came before

    writer.signal(SIGCONT);
    const ExitStatus ws = writer.wait_exit(10s);
    ASSERT_TRUE(ws.exited && ws.code == 0) << ws.describe();
    ASSERT_TRUE(reader.wait_exit(10s).exited);
    const ReaderLog log(reader.read_all(1s));
    EXPECT_FALSE(log.has_status("writer_gone")) << join(reader.lines());
    EXPECT_TRUE(log.has_status("closed"));
    EXPECT_EQ(log.bad(), 0u);
    if (kind == "cell") {
        ASSERT_FALSE(log.seqs().empty());
        EXPECT_EQ(log.seqs().back(), static_cast<std::uint64_t>(records - 1));
    } else {
        EXPECT_EQ(log.seqs(), iota_seqs(0, records)) << join(reader.lines());
    }
}

INSTANTIATE_TEST_SUITE_P(Lifecycle, StoppedWriter,
                         ::testing::Values(KindPoint{"cell", "cell.mid_payload"},
                                           KindPoint{"ring", "ring.before_commit"},
                                           KindPoint{"broadcast", "broadcast.mid_payload"}),
                         [](const auto& param_info) { return std::string(param_info.param.kind); });

// ---- L5 ------------------------------------------------------------------------------------

class StaleRegion : public ::testing::TestWithParam<const char*> {
protected:
    Names names_;
};

// L5: writer and reader both killed (-9). The next writer creates the region again at once,
// without a manual rm, and /dev/shm holds exactly one entry for the name.
TEST_P(StaleRegion, NewWriterStartsWithinOneSecondAfterEveryoneWasKilled) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: stale-region reclaim of a /dev/shm file whose users were all killed; a "
                 "Windows file-mapping object vanishes with its last handle, nothing stale is left";
#else
    const std::string kind = GetParam();
    const std::string name = names_.make("stale");
    {
        Peer writer({"write", "--kind", kind, "--name", name, "--capacity", "64",
                     "--interval-us", "500"});
        ASSERT_FALSE(writer.expect_line("ready").empty());
        Peer reader({"read", "--kind", kind, "--name", name, "--quiet"});
        ASSERT_FALSE(reader.expect_line("ready").empty());
        std::this_thread::sleep_for(100ms);
        writer.signal(SIGKILL);
        reader.signal(SIGKILL);
        EXPECT_EQ(writer.wait_exit(exit_timeout).signal, SIGKILL);
        EXPECT_EQ(reader.wait_exit(exit_timeout).signal, SIGKILL);
    }
    ASSERT_EQ(shm_entries_named(name), 1u);
    const auto before = stat_path(shm_path(name));
    ASSERT_TRUE(before);

    const auto t0 = Clock::now();
    Peer writer({"write", "--kind", kind, "--name", name, "--capacity", "64", "--count", "10",
                 "--wait-go"});
    const std::string ready = writer.expect_line("ready", 5s);
    const double ms = ms_since(t0);
    ASSERT_FALSE(ready.empty()) << join(writer.lines());
    std::cout << "L5 " << kind << ": new writer ready after " << ms << " ms\n";
    EXPECT_LT(ms, 1000.0);
    EXPECT_EQ(line_value(ready, "created"), "1");
    EXPECT_EQ(line_u64(ready, "start"), 0u);
    EXPECT_EQ(shm_entries_named(name), 1u);
    const auto after = stat_path(shm_path(name));
    ASSERT_TRUE(after);
    EXPECT_NE(after->st_ino, before->st_ino) << "the stale region was reused, not recreated";

    Peer reader({"read", "--kind", kind, "--name", name, "--timeout-ms", "50"});
    ASSERT_FALSE(reader.expect_line("ready").empty());
    writer.send("go");
    ASSERT_TRUE(writer.wait_exit(exit_timeout).exited);
    ASSERT_TRUE(reader.wait_exit(exit_timeout).exited);
    const ReaderLog log(reader.read_all(1s));
    ASSERT_FALSE(log.seqs().empty());
    EXPECT_EQ(log.seqs().back(), 9u);
    EXPECT_EQ(log.bad(), 0u);
#endif
}

INSTANTIATE_TEST_SUITE_P(Lifecycle, StaleRegion, ::testing::Values("cell", "ring", "broadcast"),
                         kind_name);

// ---- L7 ------------------------------------------------------------------------------------

// L7: eight processes released together by a pipe barrier race to create the same cell (the
// losers open it). Exactly one creates, all map the same file, nobody gets an error.
TEST(Lifecycle, EightProcessesRacingToCreateAgreeOnOneRegion) {
    Names names;
    const int racers = 8;
    // 100 on a PR run; SHMREC_RELIABILITY_RACE_ROUNDS=10000 for the nightly depth. 25 under
    // Windows, where a process takes ~0.1 s to start under Wine (100 rounds: ~80 s).
    const char* env_rounds = std::getenv("SHMREC_RELIABILITY_RACE_ROUNDS");
#if defined(_WIN32)
    const int default_rounds = 25;
#else
    const int default_rounds = 100;
#endif
    const int rounds = env_rounds != nullptr ? std::atoi(env_rounds) : default_rounds;
    int creator_errors = 0;
    std::vector<std::string> failures;
    const auto t0 = Clock::now();
    for (int round = 0; round < rounds; ++round) {
        const std::string name = names.make("race");
        int barrier[2];
#if defined(_WIN32)
        ASSERT_EQ(::_pipe(barrier, 256, _O_BINARY | _O_NOINHERIT), 0);
#else
        ASSERT_EQ(::pipe2(barrier, O_CLOEXEC), 0);
#endif
        std::vector<std::unique_ptr<Peer>> peers;
        for (int i = 0; i < racers; ++i) {
            peers.push_back(std::make_unique<Peer>(
                std::vector<std::string>{"race", "--name", name}, SpawnOptions{{}, barrier[0], {}}));
        }
        for (auto& p : peers) ASSERT_FALSE(p->expect_line("waiting").empty());
#if defined(_WIN32)
        ::_close(barrier[1]);  // go
        ::_close(barrier[0]);
#else
        ::close(barrier[1]);  // go
        ::close(barrier[0]);
#endif
        int created = 0;
        std::set<std::string> inodes;
        for (auto& p : peers) {
            const std::string line = p->read_line(10s).value_or("");
            if (starts_with(line, "race ")) {
                created += line_value(line, "created") == "1";
                inodes.insert(line_value(line, "ino"));
            } else {
                ++creator_errors;
                failures.push_back("round " + std::to_string(round) + ": " + line);
            }
        }
        for (auto& p : peers) p->send("quit");
        for (auto& p : peers) EXPECT_TRUE(p->wait_exit(exit_timeout).exited);
        EXPECT_EQ(created, 1) << "round " << round;
        EXPECT_EQ(inodes.size(), 1u) << "round " << round;
#if !defined(_WIN32)  // Windows: the object went with the racers
        ::unlink(shm_path(name).c_str());
#endif
        if (::testing::Test::HasFailure() && failures.size() > 5) break;
    }
    std::cout << "L7: " << rounds << " rounds x " << racers << " processes in " << ms_since(t0)
              << " ms\n";
    EXPECT_EQ(creator_errors, 0) << join(failures);
}

// ---- L8 ------------------------------------------------------------------------------------

class WriterTakeover : public ::testing::TestWithParam<const char*> {
protected:
    Names names_;
};

// L8: a second writer is refused (writer_active) while the first lives, whichever open mode
// it uses. Once the first is killed, a new writer takes over and continues the sequence: the
// reader sees one gapless, duplicate-free stream across both writers.
TEST_P(WriterTakeover, SecondWriterRefusedWhileFirstLivesThenContinuesTheSequence) {
    const std::string kind = GetParam();
    const std::string name = names_.make("takeover");
    const std::vector<std::string> where = {"--kind", kind, "--name", name, "--capacity", "1024"};
    auto args = [&](std::vector<std::string> a) {
        a.insert(a.end(), where.begin(), where.end());
        return a;
    };
    Peer first(args({"write", "--interval-us", "500", "--wait-go"}));
    ASSERT_FALSE(first.expect_line("ready").empty());
    Peer reader(args({"read", "--timeout-ms", "50"}));
    ASSERT_FALSE(reader.expect_line("ready").empty());
    first.send("go");
    std::this_thread::sleep_for(100ms);

    for (const char* mode : {"open", "either", "create"}) {
        Peer second(args({"write", "--open", mode, "--count", "1"}));
        const std::string line = second.read_line().value_or("");
        const std::string expected = std::string(mode) == "create" ? "already_exists"
                                                                   : "writer_active";
        EXPECT_EQ(line_value(line, "code"), expected) << mode << ": " << line;
        EXPECT_EQ(second.wait_exit(exit_timeout).code, 3);
    }

    first.signal(SIGKILL);
    ASSERT_EQ(first.wait_exit(exit_timeout).signal, SIGKILL);
    ASSERT_FALSE(reader.expect_line("s writer_gone", 5s).empty()) << join(reader.lines());

    Peer third(args({"write", "--open", "either", "--count", "50"}));
    const std::string ready = third.expect_line("ready");
    ASSERT_FALSE(ready.empty()) << join(third.lines());
    EXPECT_EQ(line_value(ready, "created"), "0");
    ASSERT_TRUE(third.wait_exit(exit_timeout).exited);
    ASSERT_TRUE(reader.wait_exit(exit_timeout).exited);
    const ReaderLog log(reader.read_all(1s));
    const std::uint64_t start = line_u64(ready, "start");
    EXPECT_GT(start, 0u);
    EXPECT_EQ(log.bad(), 0u);
    EXPECT_EQ(log.seqs(), iota_seqs(0, start + 50)) << "first writer's records: " << start;
}

INSTANTIATE_TEST_SUITE_P(Lifecycle, WriterTakeover, ::testing::Values("ring", "broadcast"),
                         kind_name);

// ---- L11 -----------------------------------------------------------------------------------

std::string probe(const std::string& kind, const std::string& name) {
    Peer p({"probe", "--kind", kind, "--name", name});
    const std::string line = p.read_line().value_or("");
    p.wait_exit(exit_timeout);
    return line;
}

// L10: fork() after open. In the child, the inherited handles refuse every operation
// (handle_forked / false) and write nothing into the parent's channels; and the child does not
// keep the parent's liveness lock: once the parent dies, readers see the writer gone although
// the child lives on.
TEST(Lifecycle, HandlesInheritedThroughForkAreRefusedAndDoNotKeepTheParentAlive) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: fork() after open; Windows has no fork";
#else
    Names names;
    const std::string cell = names.make("fork-cell");
    const std::string ring = names.make("fork-ring");
    const std::string broadcast = names.make("fork-broadcast");
    int report[2];
    ASSERT_EQ(::pipe(report), 0);
    const pid_t parent = ::fork();
    ASSERT_GE(parent, 0);
    if (parent == 0) {
        // The writer process: three writers, then a fork whose child tries to use them.
        ::close(report[0]);
        auto cw = shmrec::Cell<Checked>::writer(cell);
        auto rw = shmrec::Ring<Checked>::writer(ring, 8);
        auto bw = shmrec::Broadcast<Checked>::writer(broadcast, 8);
        if (cw.try_write(shmrec_test::make_checked(1)) != shmrec::WriteStatus::ok) std::_Exit(5);
        const pid_t child = ::fork();
        if (child == 0) {
            using shmrec::WriteStatus;
            const auto rec = shmrec_test::make_checked(2);
            const Checked batch[2] = {rec, rec};
            int refused = 0;
            refused += cw.try_write(rec) == WriteStatus::handle_forked ? 1 : 0;
            refused += rw.try_write(rec) == WriteStatus::handle_forked ? 1 : 0;
            refused += bw.try_write(rec) == WriteStatus::handle_forked ? 1 : 0;
            refused += cw.region().forked() ? 1 : 0;
            // The zero-copy and batch verbs refuse too; the accessors answer neutrally
            // instead of reading the parent's memory.
            refused += rw.try_loan().status() == WriteStatus::handle_forked ? 1 : 0;
            const auto b = bw.try_write(std::span<const Checked>(batch));
            refused += b.count == 0 && b.status == WriteStatus::handle_forked ? 1 : 0;
            refused += cw.written() == 0 && bw.written() == 0 && rw.written() == 0 ? 1 : 0;
            const std::string line = "child=" + std::to_string(::getpid()) +
                                     " refused=" + std::to_string(refused) + "\n";
            (void)!::write(report[1], line.data(), line.size());
            for (;;) ::pause();  // killed by the test
        }
        for (;;) ::pause();  // killed by the test
    }
    ::close(report[1]);
    std::string line;
    char c = 0;
    pollfd pfd{report[0], POLLIN, 0};
    while (::poll(&pfd, 1, 10000) > 0 && ::read(report[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(report[0]);
    ASSERT_EQ(line_value(line, "refused"), "7") << "the child was not refused everywhere: " << line;
    const auto child = static_cast<pid_t>(line_u64(line, "child"));
    ASSERT_GT(child, 0);

    auto reader = shmrec::Cell<Checked>::reader(cell);
    Checked got{};
    ASSERT_EQ(reader.try_read(got), shmrec::ReadStatus::ok);
    EXPECT_EQ(got.seq, 1u) << "the forked child's write reached the parent's cell";
    auto ring_reader = shmrec::Ring<Checked>::reader(ring);
    EXPECT_EQ(ring_reader.try_read(got), shmrec::ReadStatus::empty);
    EXPECT_TRUE(reader.writer_alive());

    ::kill(parent, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(parent, &status, 0), parent);
    EXPECT_EQ(::kill(child, 0), 0) << "the forked child should still be alive";
    EXPECT_FALSE(reader.writer_alive()) << "the forked child kept the dead parent's writer lock";
    EXPECT_EQ(reader.read(got, std::chrono::seconds(2)), shmrec::ReadStatus::writer_gone);
    ::kill(child, SIGKILL);
#endif
}

// L11: liveness locks belong to an open, not to a process: opening the same region a second
// time in the writer's process and closing that handle (classic fcntl locks would drop every
// lock of the process here) leaves the writer alive for everybody else. The second open
// cannot take the writer role either: the lock conflicts even within one process.
TEST(Lifecycle, SecondHandleInWriterProcessClosedWriterStaysAlive) {
    Names names;
    const std::string cell = names.make("twice-cell");
    const std::string ring = names.make("twice-ring");
    {
        auto writer = shmrec::Cell<Checked>::writer(cell);
        ASSERT_EQ(writer.try_write(make_checked(0)), shmrec::WriteStatus::ok);
        auto ring_writer = shmrec::Ring<Checked>::writer(ring, 8);
        // Windows: both objects outlive their writers, for the probes at the end.
        shmrec_test::keep_alive(cell);
        shmrec_test::keep_alive(ring);
        {
            auto reader = shmrec::Cell<Checked>::reader(cell);
            auto consumer = shmrec::Ring<Checked>::reader(ring);
            EXPECT_TRUE(reader.writer_alive());
            (void)shmrec::inspect_region(cell);
            try {
                auto again = shmrec::Cell<Checked>::writer(cell, shmrec::OpenMode::open_only);
                ADD_FAILURE() << "a second writer handle in the same process was allowed";
            } catch (const shmrec::Error& e) {
                EXPECT_EQ(e.code(), shmrec::ErrorCode::writer_active) << e.what();
            }
        }  // both second handles closed here
        EXPECT_EQ(line_value(probe("cell", cell), "alive"), "1");
        EXPECT_EQ(line_value(probe("ring", ring), "alive"), "1");
        // The consumer role was released with its handle: a probe could take it.
    }
    // The oracle can fail the other way: without the writer, the probe says dead.
    EXPECT_EQ(line_value(probe("cell", cell), "alive"), "0");
    EXPECT_EQ(line_value(probe("ring", ring), "alive"), "0");
}

// ---- L12 -----------------------------------------------------------------------------------

// L12: the name removed from under a live pair (rm, systemd RemoveIPC). Both ends keep
// working on their mapping and their health() says unlinked; once a new writer creates a new
// region under the name, it says replaced, and new participants find the new region.
TEST(Lifecycle, NameRemovedDuringTrafficIsReportedUnlinkedThenReplaced) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: removes the name of a live pair's region (rm /dev/shm/<name>); a Windows "
                 "file-mapping object keeps its name while any handle is open";
#else
    Names names;
    const std::string name = names.make("unlink");
    Peer writer({"write", "--kind", "ring", "--name", name, "--capacity", "64", "--interval-us",
                 "200"});
    const std::string wready = writer.expect_line("ready");
    ASSERT_FALSE(wready.empty());
    Peer reader({"read", "--kind", "ring", "--name", name, "--quiet", "--timeout-ms", "50"});
    const std::string rready = reader.expect_line("ready");
    ASSERT_FALSE(rready.empty());
    std::this_thread::sleep_for(50ms);

    auto health = [](Peer& p) {
        p.send("health");
        return line_value(p.expect_line("health", 5s), "value");
    };
    EXPECT_EQ(health(writer), "ok");
    EXPECT_EQ(health(reader), "ok");

    ASSERT_EQ(::unlink(shm_path(name).c_str()), 0);  // rm /dev/shm/<name>
    EXPECT_EQ(health(writer), "unlinked");
    EXPECT_EQ(health(reader), "unlinked");

    auto received = [&] {
        reader.send("stats");
        return line_u64(reader.expect_line("stats", 5s), "received");
    };
    const auto r1 = received();
    std::this_thread::sleep_for(100ms);
    EXPECT_GT(received(), r1) << "traffic stopped after the name was removed";

    {
        auto replacement = shmrec::Ring<Checked>::writer(name, 16);
        EXPECT_EQ(replacement.region().health(), shmrec::RegionHealth::ok);
        EXPECT_EQ(health(writer), "replaced");
        EXPECT_EQ(health(reader), "replaced");
        const std::string p = probe("ring", name);
        ASSERT_TRUE(starts_with(p, "probe")) << p;
        EXPECT_NE(line_value(p, "ino"), line_value(rready, "ino"));
        EXPECT_EQ(line_value(p, "health"), "ok");
    }

    writer.send("quit");
    ASSERT_TRUE(writer.wait_exit(exit_timeout).exited);
    ASSERT_TRUE(reader.wait_exit(exit_timeout).exited);
    const std::string end = reader.expect_line("end", 1s);
    ASSERT_FALSE(end.empty()) << join(reader.lines());
    EXPECT_EQ(line_u64(end, "bad"), 0u) << end;
    EXPECT_EQ(line_u64(end, "order"), 0u) << end;
    EXPECT_EQ(line_u64(end, "gaps"), 0u) << end;
#endif
}

}  // namespace
}  // namespace reltest
