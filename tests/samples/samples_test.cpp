// memwrite and memread as separate processes, started through the shell as a user would. On
// Windows through cmd.exe (each program's stdout and stderr together, `2>&1`) and the test
// support's ChildProcess, which stands in for bash's `&`, `kill -9` and `wait`.
#include <gtest/gtest.h>
#include <sys/stat.h>
#if !defined(_WIN32)
#include <sys/wait.h>
#endif

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "shmrec/shmrec.hpp"
#include "support/test_names.hpp"
#include "test_records.shmrec.hpp"
#if defined(_WIN32)
#include "support/child_process.hpp"
#include "support/shm_file.hpp"
#endif

namespace {

struct ShellRun {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};

#if defined(_WIN32)
using namespace std::chrono_literals;

// `program args` started through cmd.exe with its stderr joined to its stdout (the pipe the test
// reads). Backslashes in the program's path: cmd.exe takes a '/' for a switch. cmd.exe does not
// read the C runtime's \" escapes, so nothing here is quoted: no path may hold a space.
std::unique_ptr<shmrec_test::ChildProcess> start(std::string program, const std::string& args) {
    for (char& c : program) {
        if (c == '/') c = '\\';
    }
    return std::make_unique<shmrec_test::ChildProcess>(
        "cmd.exe", std::vector<std::string>{"/c", program + " " + args + " 2>&1"});
}

// Waits for `p` to end and adds what it printed to `r` (its exit code too).
void finish(shmrec_test::ChildProcess& p, ShellRun& r) {
    for (const auto& line : p.read_all(60s)) r.output += line + "\n";  // until end of file
    const auto status = p.wait_exit(10s);
    r.exit_code = status.exited ? status.code : 128 + status.signal;
}

// One program run to its end.
ShellRun run(const std::string& program, const std::string& args) {
    ShellRun r;
    finish(*start(program, args), r);
    return r;
}
#else
// Runs `script` with bash, waits for it, and returns its exit code and output.
ShellRun run(const std::string& script) {
    ShellRun r;
    const std::string command = "bash -c '" + script + "' 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return r;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}
#endif

const std::string memwrite = SHMREC_MEMWRITE;
const std::string memread = SHMREC_MEMREAD;

class Samples : public shmrec_test::RegionFixture {};

TEST_F(Samples, DemoScriptExchangesTheSeedRecordsAndEndsCleanly) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: samples/demo.sh is a bash script; the other Samples tests run memwrite.exe "
                 "and memread.exe the same way under Windows";
#else
    const std::string bin = memwrite.substr(0, memwrite.rfind('/'));
    const ShellRun r = run(std::string(SHMREC_DEMO_SCRIPT) + " " + bin);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const auto received = r.output.substr(r.output.find("== memread received"));
    EXPECT_NE(received.find("99041232 SecBug\n"), std::string::npos) << r.output;
    EXPECT_NE(received.find("99041236 SecBug-4\n"), std::string::npos) << r.output;
    EXPECT_NE(received.find("memread: the writer closed TestMemShare"), std::string::npos)
        << r.output;
#endif
}

TEST_F(Samples, MemreadNamesAMissingRegion) {
    const std::string name = this->name();
#if defined(_WIN32)
    const ShellRun r = run(memread, "--name " + name);
#else
    const ShellRun r = run(memread + " --name " + name);
#endif
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("region '" + name + "' does not exist"), std::string::npos)
        << r.output;
}

TEST_F(Samples, MemreadRefusesAFileThatIsNotARegion) {
    const std::string name = this->name();
#if defined(_WIN32)
    // A foreign file-mapping object under the name, full of garbage.
    std::vector<std::byte> junk(4096);
    for (int i = 0; i < 4096; ++i) junk[i] = static_cast<std::byte>(i * 37 + 11);
    shmrec_test::create_file(shmrec_test::shm_path(name), junk, junk.size());
    const ShellRun r = run(memread, "--name " + name);
#else
    {
        std::ofstream junk("/dev/shm/" + name, std::ios::binary);
        for (int i = 0; i < 4096; ++i) junk.put(static_cast<char>(i * 37 + 11));
    }
    ::chmod(("/dev/shm/" + name).c_str(), 0600);
    const ShellRun r = run(memread + " --name " + name);
#endif
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("region '" + name + "' is not a shmrec region"), std::string::npos)
        << r.output;
}

TEST_F(Samples, MemreadRefusesAnotherRecordType) {
    const std::string name = this->name();
    auto other = shmrec::Cell<shmrec_test::Other>::writer(name);
#if defined(_WIN32)
    const ShellRun r = run(memread, "--name " + name);
#else
    const ShellRun r = run(memread + " --name " + name);
#endif
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("region '" + name +
                            "' holds shmrec_test.Other records, this program was built for "
                            "school.Student"),
              std::string::npos)
        << r.output;
}

TEST_F(Samples, MemreadReportsAWriterThatDied) {
    const std::string name = this->name();
#if defined(_WIN32)
    // The writer directly (TerminateProcess must reach it, not a cmd.exe above it).
    // Killed once it publishes and the reader had time to attach (Wine starts a process in
    // ~0.1 s, cmd.exe and memread in two).
    shmrec_test::ChildProcess writer(memwrite, {"--name", name, "--interval", "50"});
    ASSERT_FALSE(writer.expect_line("published").empty()) << "memwrite never published";
    auto reader = start(memread, "--name " + name + " --wait 5000");
    std::this_thread::sleep_for(1000ms);
    writer.signal(SIGKILL);
    ShellRun r;
    finish(*reader, r);
#else
    const ShellRun r = run(memwrite + " --name " + name + " --interval 50 >/dev/null & w=$!; " +
                      memread + " --name " + name + " --wait 5000 & r=$!; sleep 0.5; " +
                      "kill -9 $w; wait $r");
#endif
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("the writer of region '" + name + "' died without closing it"),
              std::string::npos)
        << r.output;
    shmrec::remove_region(name);
}

TEST_F(Samples, RingStreamArrivesWholeAndInOrder) {
    const std::string name = this->name();
#if defined(_WIN32)
    auto reader = start(memread, "--name " + name + " --ring 200000 --wait 5000");
    ShellRun r = run(memwrite, "--name " + name + " --ring 200000 --capacity 64");
    if (r.exit_code == 0) finish(*reader, r);
#else
    const ShellRun r = run(memread + " --name " + name + " --ring 200000 --wait 5000 & r=$!; " +
                      memwrite + " --name " + name + " --ring 200000 --capacity 64 && wait $r");
#endif
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("memread: received 200000 records in order, none lost or duplicated"),
              std::string::npos)
        << r.output;
}

// FlatBuffers tables built in place by memwrite, verified and checked field by field by
// memread, through a table ring small enough (4 KiB) to wrap many times.
TEST_F(Samples, TableStreamArrivesWholeVerifiedAndInOrder) {
    const std::string name = this->name();
#if defined(_WIN32)
    auto reader = start(memread, "--name " + name + " --table 20000 --wait 5000");
    ShellRun r = run(memwrite, "--name " + name + " --table 20000 --capacity 4096");
    if (r.exit_code == 0) finish(*reader, r);
#else
    const ShellRun r = run(memread + " --name " + name + " --table 20000 --wait 5000 & r=$!; " +
                      memwrite + " --name " + name + " --table 20000 --capacity 4096 && wait $r");
#endif
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("memread: first enrolment: 0 student-0 'enrolment 0' grade 0 courses 0"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("memread: received 20000 enrolments in order, each verified and intact"),
              std::string::npos)
        << r.output;
}

TEST_F(Samples, TwoBroadcastReadersAccountForEveryRecord) {
    const std::string name = this->name();
#if defined(_WIN32)
    auto a = start(memread, "--name " + name + " --broadcast --wait 5000");
    auto b = start(memread, "--name " + name + " --broadcast --wait 5000");
    std::this_thread::sleep_for(300ms);
    ShellRun r = run(memwrite, "--name " + name +
                                   " --broadcast 100000 --capacity 256 --interval 0 --readers 2");
    if (r.exit_code == 0) finish(*a, r);
    if (r.exit_code == 0) finish(*b, r);
#else
    const ShellRun r = run(memread + " --name " + name + " --broadcast --wait 5000 & a=$!; " +
                      memread + " --name " + name + " --broadcast --wait 5000 & b=$!; " +
                      "sleep 0.3; " + memwrite + " --name " + name +
                      " --broadcast 100000 --capacity 256 --interval 0 --readers 2 && wait $a && wait $b");
#endif
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::size_t reports = 0;
    for (auto at = r.output.find("memread: received "); at != std::string::npos;
         at = r.output.find("memread: received ", at + 1)) {
        unsigned long long received = 0, lost = 0, written = 0;
        ASSERT_EQ(std::sscanf(r.output.c_str() + at,
                              "memread: received %llu, lost %llu (of %llu written", &received,
                              &lost, &written),
                  3)
            << r.output;
        EXPECT_EQ(received + lost, written);
        EXPECT_GT(received, 0u);
        ++reports;
    }
    EXPECT_EQ(reports, 2u) << r.output;
}

TEST_F(Samples, FileBackedExchange) {
    shmrec_test::TempDir dir;
    const std::string path = (dir.path() / "students.shmrec").string();
#if defined(_WIN32)
    auto reader = start(memread, "--file " + path + " --wait 5000 --count 3");
    ShellRun r = run(memwrite, "--file " + path + " --count 3 --interval 100");
    if (r.exit_code == 0) {
        r.output.clear();  // memwrite's own lines (>/dev/null in the script)
        finish(*reader, r);
    }
#else
    const ShellRun r = run(memread + " --file " + path + " --wait 5000 --count 3 & r=$!; " + memwrite +
                      " --file " + path + " --count 3 --interval 100 >/dev/null && wait $r");
#endif
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("99041234 SecBug-2"), std::string::npos) << r.output;
}

}  // namespace
