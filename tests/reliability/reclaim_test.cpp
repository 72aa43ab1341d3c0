// Reclaim races (issue 8, defects 1 and 14): a stale region removed and created again while
// another process is between its open and its locks, or between its exclusive create and its
// locks, or while an opener looks the name up in the gap between the removal and the new
// region. Forced with fault points (SIGSTOP at the point, then SIGCONT).
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <thread>
#include <vector>

#include "reliability_support.hpp"
#include "reliability_test_support.hpp"

namespace reltest {
namespace {

#if !defined(_WIN32)  // the reclaim tests' helpers
// Leaves a stale cell at `name`: a writer and a reader, both killed with SIGKILL.
void make_stale(const std::string& name) {
    Peer writer({"write", "--kind", "cell", "--name", name, "--interval-us", "500"});
    ASSERT_FALSE(writer.expect_line("ready").empty()) << join(writer.lines());
    Peer reader({"read", "--kind", "cell", "--name", name, "--quiet"});
    ASSERT_FALSE(reader.expect_line("ready").empty()) << join(reader.lines());
    writer.signal(SIGKILL);
    reader.signal(SIGKILL);
    EXPECT_EQ(writer.wait_exit(exit_timeout).signal, SIGKILL);
    EXPECT_EQ(reader.wait_exit(exit_timeout).signal, SIGKILL);
}

std::string probe_line(const std::string& name) {
    Peer p({"probe", "--kind", "cell", "--name", name});
    const std::string line = p.read_line().value_or("");
    p.wait_exit(exit_timeout);
    return line;
}

#endif

// Ends a `write --count 1 --hold` peer: "quit" only once it has written ("done"), so the
// command is not taken by its write loop instead of its hold.
ExitStatus stop_holder(Peer& holder) {
    EXPECT_FALSE(holder.expect_line("done", 5s).empty()) << join(holder.lines());
    holder.send("quit");
    return holder.wait_exit(exit_timeout);
}

#if !defined(_WIN32)
std::string ino_at(const std::string& name) {
    const auto st = stat_path(shm_path(name));
    return st ? std::to_string(st->st_ino) : std::string("none");
}
#endif

// What the opener under test does: a reader's open, or a writer taking over (open_only).
class OpenerDuringReclaim : public ::testing::TestWithParam<const char*> {
protected:
    std::vector<std::string> opener_args(const std::string& name) const {
        if (std::string(GetParam()) == "reader") return {"open", "--kind", "cell", "--name", name};
        return {"write", "--kind", "cell", "--name", name, "--open", "open", "--count", "1"};
    }
    Names names_;
};

// Defect 1: the opener has a handle on the stale region when a creator reclaims the name
// (removes the stale region, creates a new one). Resumed, it must not attach to the removed
// region (which nobody can find any more): it ends on the new region or fails clearly.
TEST_P(OpenerDuringReclaim, ResumedOpenerNeverAttachesToTheRemovedRegion) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: stale-region reclaim (a /dev/shm file whose users all died, removed and "
                 "created again); a Windows file-mapping object vanishes with its last handle, "
                 "nothing stale is left to reclaim";
#else
    const std::string name = names_.make("split");
    make_stale(name);
    const std::string old_ino = ino_at(name);

    Peer opener(opener_args(name), "open.after_open:1:stop");
    ASSERT_TRUE(opener.wait_stopped(5s)) << join(opener.lines());

    Peer creator({"write", "--kind", "cell", "--name", name, "--count", "1", "--hold"});
    const std::string ready = creator.expect_line("ready", 5s);
    ASSERT_FALSE(ready.empty()) << join(creator.lines());
    ASSERT_EQ(line_value(ready, "created"), "1") << ready;
    const std::string new_ino = ino_at(name);
    ASSERT_EQ(line_value(ready, "ino"), new_ino);
    ASSERT_NE(new_ino, old_ino);

    opener.signal(SIGCONT);
    const std::string first = opener.expect_line("", 10s);  // "opened ...", "ready ..." or "error ..."
    ASSERT_FALSE(first.empty()) << "the resumed opener said nothing";
    if (starts_with(first, "error")) {
        // Failing clearly is allowed (a writer finds the new region's writer alive).
        EXPECT_NE(line_value(first, "code"), "") << first;
        if (std::string(GetParam()) == "writer") {
            EXPECT_EQ(line_value(first, "code"), "writer_active") << first;
        }
    } else {
        EXPECT_EQ(line_value(first, "ino"), new_ino)
            << "the opener attached to the removed region (old inode " << old_ino << "): " << first;
    }
    EXPECT_EQ(ino_at(name), new_ino);
    EXPECT_TRUE(stop_holder(creator).exited);
    opener.wait_exit(exit_timeout);
#endif
}

INSTANTIATE_TEST_SUITE_P(Lifecycle, OpenerDuringReclaim, ::testing::Values("reader", "writer"),
                         [](const auto& i) { return std::string(i.param); });

// Defect 1, creator side: a creator stopped between its exclusive create and its locks for
// longer than init_timeout has its empty new file reclaimed as a dead creator's leftover, and
// the name goes to another region. Resumed, it must not publish into its removed file, nor
// remove the other region: it fails cleanly (already_exists) or ends on the region at the name.
TEST(Lifecycle, CreatorStalledBeforeItsLocksNoticesItsFileWasReclaimed) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: stale-region reclaim (a /dev/shm file whose users all died, removed and "
                 "created again); a Windows file-mapping object vanishes with its last handle, "
                 "nothing stale is left to reclaim";
#else
    Names names;
    const std::string name = names.make("stalled");
    Peer stalled({"write", "--kind", "cell", "--name", name, "--init-timeout-ms", "200",
                  "--count", "1"},
                 "create.before_locks:1:stop");
    ASSERT_TRUE(stalled.wait_stopped(5s)) << join(stalled.lines());
    const std::string stalled_ino = ino_at(name);
    std::this_thread::sleep_for(400ms);  // older than the reclaimer's init_timeout

    Peer reclaimer({"write", "--kind", "cell", "--name", name, "--init-timeout-ms", "200",
                    "--count", "1", "--hold"});
    const std::string ready = reclaimer.expect_line("ready", 5s);
    ASSERT_FALSE(ready.empty()) << join(reclaimer.lines());
    ASSERT_EQ(line_value(ready, "created"), "1") << ready;
    const std::string new_ino = ino_at(name);
    ASSERT_NE(new_ino, stalled_ino);

    stalled.signal(SIGCONT);
    const std::string first = stalled.expect_line("", 10s);
    ASSERT_FALSE(first.empty()) << "the resumed creator said nothing";
    if (starts_with(first, "error")) {
        EXPECT_EQ(line_value(first, "code"), "already_exists") << first;
    } else {
        EXPECT_EQ(line_value(first, "ino"), new_ino)
            << "the creator published into its reclaimed file: " << first;
    }
    stalled.wait_exit(exit_timeout);
    EXPECT_EQ(ino_at(name), new_ino) << "the stalled creator removed the other region";
    const std::string p = probe_line(name);
    EXPECT_EQ(line_value(p, "alive"), "1") << p;
    EXPECT_TRUE(stop_holder(reclaimer).exited);
#endif
}

// Defect 14: the reclaimer is stopped between removing the stale region and creating the new
// one. An opener that had the stale region open (and so knows a reclaim is under way) keeps
// trying while the name is missing, up to init_timeout, and ends on the new region instead of
// failing with not_found.
TEST(Lifecycle, OpenerWaitsThroughTheGapBetweenRemovalAndRecreation) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: stale-region reclaim (a /dev/shm file whose users all died, removed and "
                 "created again); a Windows file-mapping object vanishes with its last handle, "
                 "nothing stale is left to reclaim";
#else
    Names names;
    const std::string name = names.make("gap");
    make_stale(name);

    Peer opener({"open", "--kind", "cell", "--name", name, "--init-timeout-ms", "5000"},
                "open.after_open:1:stop");
    ASSERT_TRUE(opener.wait_stopped(5s)) << join(opener.lines());
    Peer reclaimer({"write", "--kind", "cell", "--name", name, "--count", "1", "--hold"},
                   "reclaim.after_remove:1:stop");
    ASSERT_TRUE(reclaimer.wait_stopped(5s)) << join(reclaimer.lines());
    ASSERT_EQ(ino_at(name), "none") << "the reclaimer should have removed the stale region";

    opener.signal(SIGCONT);
    std::this_thread::sleep_for(300ms);  // the opener runs into the gap
    reclaimer.signal(SIGCONT);
    const std::string ready = reclaimer.expect_line("ready", 5s);
    ASSERT_FALSE(ready.empty()) << join(reclaimer.lines());
    const std::string opened = opener.expect_line("", 10s);
    EXPECT_TRUE(starts_with(opened, "opened")) << opened;
    EXPECT_EQ(line_value(opened, "ino"), line_value(ready, "ino")) << opened;
    EXPECT_EQ(opener.wait_exit(exit_timeout), ExitStatus::code_of(0));
    EXPECT_TRUE(stop_holder(reclaimer).exited);
#endif
}

// wait_for_creator: a reader started before its writer waits for the name to appear.
TEST(Lifecycle, ReaderStartedBeforeItsWriterWaitsForCreator) {
    Names names;
    const std::string name = names.make("early");
    Peer early({"open", "--kind", "cell", "--name", name, "--wait-for-creator-ms", "5000"});
    std::this_thread::sleep_for(300ms);
    Peer writer({"write", "--kind", "cell", "--name", name, "--count", "1", "--hold"});
    const std::string ready = writer.expect_line("ready", 5s);
    ASSERT_FALSE(ready.empty()) << join(writer.lines());
    const std::string opened = early.expect_line("", 10s);
    EXPECT_TRUE(starts_with(opened, "opened")) << opened;
    EXPECT_EQ(line_value(opened, "ino"), line_value(ready, "ino"));
    EXPECT_EQ(early.wait_exit(exit_timeout), ExitStatus::code_of(0));
    EXPECT_TRUE(stop_holder(writer).exited);
}

}  // namespace
}  // namespace reltest
