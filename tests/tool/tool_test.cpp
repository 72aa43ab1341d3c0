// End-to-end tests of the `shmrec` tool: the built binary (SHMREC_TOOL) runs as a real process
// against regions this test makes through the runtime API, and against files that are not
// regions. JSON output is parsed with nlohmann.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <shmrec/shmrec.hpp>

#include "student.shmrec.hpp"
#include "test_names.hpp"
#include "test_records.shmrec.hpp"
#include "tool_runner.hpp"

namespace {

using namespace std::chrono_literals;
using json = nlohmann::ordered_json;  // keeps the tool's key order
using shmrec_tool_test::RunResult;
using shmrec_tool_test::shmrec;

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string shm_path(const std::string& name) { return "/dev/shm/" + name; }

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
    out.close();
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
}

std::string random_bytes(std::size_t n) {
    std::mt19937 gen(12345);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(gen() & 0xff);
    s[0] = 'R';  // never the magic, never all zero
    return s;
}

// The region named `name` in `ls --json` output, or null.
const json* find_region(const json& listing, const std::string& name) {
    for (const auto& r : listing.at("regions")) {
        if (r.at("name") == name) return &r;
    }
    return nullptr;
}

json parse(const RunResult& r) {
    json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON:\n" << r.describe();
    return j;
}

// A region whose writer died holding it (kill -9): made by a forked child.
template <typename Make>
void make_with_dead_writer(Make make) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        try {
            auto handle = make();
            ::kill(::getpid(), SIGKILL);
        } catch (...) {
        }
        ::_exit(3);
    }
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << "the child could not make the region";
}

class ToolTest : public shmrec_test::RegionFixture {};

// ---- ls ----

TEST_F(ToolTest, LsJsonListsEachKindWithItsRecordCapacityWriterAndReaders) {
    const auto cell_name = name("cell");
    const auto ring_name = name("ring");
    const auto bc_name = name("bc");
    const auto dead_name = name("dead");
    auto cell = shmrec::Cell<school::Student>::writer(cell_name);
    auto ring = shmrec::Ring<shmrec_test::Checked>::writer(ring_name, 8);
    auto consumer = shmrec::Ring<shmrec_test::Checked>::reader(ring_name);
    auto bc = shmrec::Broadcast<shmrec_test::Checked>::writer(bc_name, 16);
    auto bc_reader1 = shmrec::Broadcast<shmrec_test::Checked>::reader(bc_name);
    auto bc_reader2 = shmrec::Broadcast<shmrec_test::Checked>::reader(bc_name);
    make_with_dead_writer([&] { return shmrec::Cell<school::Student>::writer(dead_name); });

    const RunResult r = shmrec({"ls", "--json"});
    ASSERT_EQ(r.code(), 0) << r.describe();
    const json listing = parse(r);
    ASSERT_TRUE(listing.contains("regions")) << r.describe();

    const json* c = find_region(listing, cell_name);
    ASSERT_NE(c, nullptr) << r.describe();
    EXPECT_EQ(c->at("kind"), "cell");
    EXPECT_EQ(c->at("record"), "school.Student");
    EXPECT_EQ(c->at("capacity"), 1);  // a cell holds the latest value, not its 2 slots
    EXPECT_EQ(c->at("state"), "ready");
    EXPECT_EQ(c->at("writer"), "alive");
    EXPECT_EQ(c->at("readers"), 0);
    EXPECT_EQ(c->at("backing"), "memory");
    EXPECT_TRUE(c->at("problem").is_null());
    EXPECT_GT(c->at("size").get<std::uint64_t>(), 0u);

    const json* g = find_region(listing, ring_name);
    ASSERT_NE(g, nullptr) << r.describe();
    EXPECT_EQ(g->at("kind"), "ring");
    EXPECT_EQ(g->at("record"), "shmrec_test.Checked");
    EXPECT_EQ(g->at("capacity"), 8);
    EXPECT_EQ(g->at("writer"), "alive");
    EXPECT_EQ(g->at("consumer"), true);
    EXPECT_TRUE(g->at("readers").is_null());

    const json* b = find_region(listing, bc_name);
    ASSERT_NE(b, nullptr) << r.describe();
    EXPECT_EQ(b->at("kind"), "broadcast");
    EXPECT_EQ(b->at("capacity"), 16);
    EXPECT_EQ(b->at("readers"), 2);

    const json* d = find_region(listing, dead_name);
    ASSERT_NE(d, nullptr) << r.describe();
    EXPECT_EQ(d->at("writer"), "none");
}

TEST_F(ToolTest, LsTableHasColumnHeadersAndShowsACellAsLatestValue) {
    const auto cell_name = name("cell");
    auto cell = shmrec::Cell<school::Student>::writer(cell_name);
    const RunResult r = shmrec({"ls"});
    ASSERT_EQ(r.code(), 0) << r.describe();
    const std::string first_line = r.out.substr(0, r.out.find('\n'));
    for (const char* header :
         {"NAME", "KIND", "RECORD", "CAPACITY", "SIZE", "STATE", "WRITER", "READERS", "OWNER"}) {
        EXPECT_TRUE(contains(first_line, header)) << header << " missing in: " << first_line;
    }
    std::string row;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(cell_name + " ", 0) == 0) row = line;
    }
    ASSERT_FALSE(row.empty()) << r.describe();
    EXPECT_TRUE(contains(row, "1 (latest value)")) << row;
    EXPECT_TRUE(contains(row, "school.Student")) << row;
    EXPECT_TRUE(contains(row, "alive")) << row;
    EXPECT_TRUE(contains(row, "root") || contains(row, std::to_string(::geteuid()))) << row;
}

TEST_F(ToolTest, LsDirListsFileRegionsSkipsNonRegionsAndShowsInvalidOnesWithTheirProblem) {
    shmrec_test::TempDir dir;
    auto good = shmrec::Cell<school::Student>::writer(shmrec::Location::file(dir.file("good")));
    {
        auto other = shmrec::Ring<shmrec_test::Checked>::writer(
            shmrec::Location::file(dir.file("future")), 4);
        other.close();
    }
    // Another format version: what a newer shmrec would have made.
    {
        std::fstream f(dir.file("future"), std::ios::in | std::ios::out | std::ios::binary);
        const std::uint16_t major = 99;
        f.seekp(8);
        f.write(reinterpret_cast<const char*>(&major), sizeof major);
        ASSERT_TRUE(f.good());
    }
    write_file(dir.file("garbage"), random_bytes(4096));
    write_file(dir.file("zeros"), std::string(4096, '\0'));
    write_file(dir.file("empty"), "");

    const RunResult r = shmrec({"ls", "--dir", dir.path().string(), "--json"});
    ASSERT_EQ(r.code(), 0) << r.describe();
    const json listing = parse(r);
    const json* g = find_region(listing, dir.file("good"));
    ASSERT_NE(g, nullptr) << r.describe();
    EXPECT_EQ(g->at("backing"), "file");
    EXPECT_EQ(g->at("kind"), "cell");
    EXPECT_EQ(g->at("writer"), "alive");
    const json* f = find_region(listing, dir.file("future"));
    ASSERT_NE(f, nullptr) << "a region of another version must be listed, not hidden\n"
                          << r.describe();
    EXPECT_EQ(f->at("state"), "invalid");
    EXPECT_EQ(f->at("kind"), "ring");
    ASSERT_TRUE(f->at("problem").is_string()) << r.describe();
    EXPECT_TRUE(contains(f->at("problem").get<std::string>(), "format 99")) << r.describe();
    for (const char* junk : {"garbage", "zeros", "empty"}) {
        EXPECT_EQ(find_region(listing, dir.file(junk)), nullptr) << junk << "\n" << r.describe();
    }

    const RunResult table = shmrec({"ls", "--dir", dir.path().string()});
    ASSERT_EQ(table.code(), 0) << table.describe();
    EXPECT_TRUE(contains(table.out.substr(0, table.out.find('\n')), "PROBLEM")) << table.out;
    EXPECT_TRUE(contains(table.out, "format 99")) << table.out;
}

// ---- info ----

TEST_F(ToolTest, InfoDescribesACellARingAndABroadcast) {
    const auto cell_name = name("cell");
    const auto ring_name = name("ring");
    const auto bc_name = name("bc");
    auto cell = shmrec::Cell<school::Student>::writer(cell_name);
    auto cell_reader = shmrec::Cell<school::Student>::reader(cell_name);
    auto ring = shmrec::Ring<shmrec_test::Checked>::writer(ring_name, 8);
    auto bc = shmrec::Broadcast<shmrec_test::Checked>::writer(bc_name, 16);

    RunResult r = shmrec({"info", cell_name});
    ASSERT_EQ(r.code(), 0) << r.describe();
    EXPECT_TRUE(contains(r.out, "channel       cell (latest value")) << r.out;
    EXPECT_TRUE(contains(r.out, "record        school.Student (" +
                                    std::to_string(sizeof(school::Student)) + " bytes"))
        << r.out;
    EXPECT_TRUE(contains(r.out, "capacity      1 (latest value")) << r.out;
    EXPECT_TRUE(contains(r.out, "writer        alive")) << r.out;
    EXPECT_TRUE(contains(r.out, "readers       1 attached")) << r.out;
    EXPECT_TRUE(contains(r.out, "format        2.")) << r.out;
    EXPECT_FALSE(contains(r.out, "struct Student")) << "schema text only with --schema";

    r = shmrec({"info", cell_name, "--schema"});
    ASSERT_EQ(r.code(), 0) << r.describe();
    EXPECT_TRUE(contains(r.out, "struct Student")) << r.out;

    r = shmrec({"info", ring_name});
    ASSERT_EQ(r.code(), 0) << r.describe();
    EXPECT_TRUE(contains(r.out, "channel       ring")) << r.out;
    EXPECT_TRUE(contains(r.out, "capacity      8 records")) << r.out;
    EXPECT_TRUE(contains(r.out, "consumer      none")) << r.out;

    r = shmrec({"info", bc_name});
    ASSERT_EQ(r.code(), 0) << r.describe();
    EXPECT_TRUE(contains(r.out, "channel       broadcast")) << r.out;
    EXPECT_TRUE(contains(r.out, "capacity      16 records")) << r.out;
    EXPECT_TRUE(contains(r.out, "readers       0 attached")) << r.out;
}

TEST_F(ToolTest, InfoJsonCarriesTheDecodedHeaderAndTheSchema) {
    const auto ring_name = name("ring");
    auto ring = shmrec::Ring<shmrec_test::Checked>::writer(ring_name, 32);
    auto consumer = shmrec::Ring<shmrec_test::Checked>::reader(ring_name);
    const RunResult r = shmrec({"info", ring_name, "--json"});
    ASSERT_EQ(r.code(), 0) << r.describe();
    const json j = parse(r);
    EXPECT_EQ(j.at("name"), ring_name);
    EXPECT_EQ(j.at("kind"), "ring");
    EXPECT_EQ(j.at("state"), "ready");
    EXPECT_EQ(j.at("format").at("major"), SHMREC_FORMAT_MAJOR);
    EXPECT_EQ(j.at("record").at("name"), "shmrec_test.Checked");
    EXPECT_EQ(j.at("record").at("size"), sizeof(shmrec_test::Checked));
    EXPECT_EQ(j.at("record").at("alignment"), alignof(shmrec_test::Checked));
    EXPECT_EQ(j.at("record").at("fingerprint").get<std::string>().rfind("0x", 0), 0u);
    EXPECT_EQ(j.at("capacity"), 32);
    EXPECT_EQ(j.at("geometry").at("slots"), 32);
    EXPECT_EQ(j.at("writer").at("alive"), true);
    EXPECT_EQ(j.at("consumer").at("alive"), true);
    EXPECT_EQ(j.at("creator").at("pid"), ::getpid());
    EXPECT_TRUE(contains(j.at("schema").get<std::string>(), "struct Checked")) << r.out;
    // Key order is part of the contract for people reading it: name first, schema last.
    EXPECT_EQ(j.begin().key(), "name");
}

TEST_F(ToolTest, InfoNamesTheWriterThatTookOverNotTheCreator) {
    const auto cell_name = name("takeover");
    pid_t creator = 0;
    {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            auto handle = shmrec::Cell<school::Student>::writer(cell_name);
            ::_exit(0);  // dies holding the region
        }
        int st = 0;
        ASSERT_EQ(::waitpid(pid, &st, 0), pid);
        creator = pid;
    }
    auto takeover = shmrec::Cell<school::Student>::writer(cell_name, shmrec::OpenMode::open_only);
    const RunResult r = shmrec({"info", cell_name, "--json"});
    ASSERT_EQ(r.code(), 0) << r.describe();
    const json j = parse(r);
    EXPECT_EQ(j.at("creator").at("pid"), creator);
    EXPECT_EQ(j.at("writer").at("pid"), ::getpid());
    EXPECT_EQ(j.at("writer").at("generation"), 2);
    const RunResult text = shmrec({"info", cell_name});
    EXPECT_TRUE(contains(text.out, "alive: pid " + std::to_string(::getpid()) + " ")) << text.out;
    EXPECT_TRUE(contains(text.out, "writer #2")) << text.out;
}

TEST_F(ToolTest, InfoAnswersEmptyZeroFilledAndGarbageAtOnceWithoutBlamingAPid) {
    shmrec_test::TempDir dir;
    write_file(dir.file("empty"), "");
    write_file(dir.file("zeros"), std::string(8192, '\0'));
    write_file(dir.file("garbage"), random_bytes(8192));
    const auto shm_zeros = name("zeros");
    const auto shm_empty = name("empty");
    write_file(shm_path(shm_zeros), std::string(4096, '\0'));
    write_file(shm_path(shm_empty), "");

    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases{
        {{"info", "--file", dir.file("empty")}, "not a shmrec region (empty)"},
        {{"info", "--file", dir.file("zeros")}, "not a shmrec region (zero-filled)"},
        {{"info", "--file", dir.file("garbage")}, "not a shmrec region"},
        {{"info", shm_zeros}, "not a shmrec region (zero-filled)"},
        {{"info", shm_empty}, "not a shmrec region (empty)"},
    };
    for (const auto& c : cases) {
        const RunResult r = shmrec(c.args);
        EXPECT_EQ(r.code(), 1) << c.args.back() << "\n" << r.describe();
        // The old tool waited the 2 s init_timeout first; a loaded 2-core machine can take
        // most of a second just to start a process, so the bound stays below 2 s, not tight.
        EXPECT_LT(r.elapsed, 1800ms) << c.args.back() << " took " << r.elapsed.count() << " ms";
        EXPECT_TRUE(contains(r.err, c.expected)) << r.describe();
        EXPECT_FALSE(contains(r.err, "pid")) << "blames a pid:\n" << r.describe();
    }
}

TEST_F(ToolTest, InfoOfAMissingNameExitsThreeAndNamesTheNearestRegions) {
    const auto real = name("alpha");
    auto cell = shmrec::Cell<school::Student>::writer(real);
    std::string typo = real;
    typo.replace(typo.size() - 5, 5, "alpah");
    const RunResult r = shmrec({"info", typo});
    EXPECT_EQ(r.code(), 3) << r.describe();
    EXPECT_TRUE(contains(r.err, "does not exist")) << r.describe();
    EXPECT_TRUE(contains(r.err, real)) << "nearest name not suggested:\n" << r.describe();

    const RunResult j = shmrec({"info", typo, "--json"});
    EXPECT_EQ(j.code(), 3) << j.describe();
    const json err = parse(j);
    EXPECT_EQ(err.at("error").at("code"), "not_found");
    EXPECT_EQ(err.at("error").at("nearest").at(0), real) << j.describe();
}

TEST_F(ToolTest, InfoOfAnotherUsersRegionSaysWhoseItIs) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a region to another user";
    const auto n = name("theirs");
    auto cell = shmrec::Cell<school::Student>::writer(n);
    ASSERT_EQ(::chown(shm_path(n).c_str(), 65534, 65534), 0) << std::strerror(errno);
    const RunResult r = shmrec({"info", n});
    EXPECT_EQ(r.code(), 1) << r.describe();
    EXPECT_TRUE(contains(r.err, "owned by user ")) << r.describe();
    EXPECT_TRUE(contains(r.err, "mode 0600")) << r.describe();

    const json listing = parse(shmrec({"ls", "--json"}));
    const json* e = find_region(listing, n);
    ASSERT_NE(e, nullptr);
    EXPECT_NE(e->at("owner"), "root");
    EXPECT_EQ(e->at("kind"), "cell");  // read from the header even though it is not ours
    EXPECT_TRUE(e->at("problem").is_string());
}

// ---- rm ----

TEST_F(ToolTest, RmRefusesARegionWithALiveWriterAndForceRemovesIt) {
    const auto n = name("live");
    auto cell = shmrec::Cell<school::Student>::writer(n);
    RunResult r = shmrec({"rm", n});
    EXPECT_EQ(r.code(), 1) << r.describe();
    EXPECT_TRUE(contains(r.err, "live writer")) << r.describe();
    EXPECT_TRUE(fs::exists(shm_path(n))) << "removed despite the refusal";

    r = shmrec({"rm", n, "--force"});
    EXPECT_EQ(r.code(), 0) << r.describe();
    EXPECT_FALSE(fs::exists(shm_path(n)));
}

TEST_F(ToolTest, RmRefusesWhatIsNotARegionAndForceRemovesIt) {
    shmrec_test::TempDir dir;
    write_file(dir.file("garbage"), random_bytes(4096));
    write_file(dir.file("zeros"), std::string(4096, '\0'));
    write_file(dir.file("empty"), "");
    const auto shm_zeros = name("zeros");
    write_file(shm_path(shm_zeros), std::string(4096, '\0'));

    const std::vector<std::vector<std::string>> targets{{"--file", dir.file("garbage")},
                                                        {"--file", dir.file("zeros")},
                                                        {"--file", dir.file("empty")},
                                                        {shm_zeros}};
    for (const auto& t : targets) {
        const std::string path = t.size() == 2 ? t[1] : shm_path(t[0]);
        std::vector<std::string> args{"rm"};
        args.insert(args.end(), t.begin(), t.end());
        RunResult r = shmrec(args);
        EXPECT_EQ(r.code(), 1) << path << "\n" << r.describe();
        EXPECT_TRUE(contains(r.err, "not a shmrec region")) << r.describe();
        EXPECT_TRUE(fs::exists(path)) << path << " was removed despite the refusal";

        args.push_back("--force");
        r = shmrec(args);
        EXPECT_EQ(r.code(), 0) << path << "\n" << r.describe();
        EXPECT_FALSE(fs::exists(path)) << path;
    }
}

TEST_F(ToolTest, RmOfAMissingNameExitsThreeAndNamesTheNearest) {
    const auto real = name("bravo");
    auto cell = shmrec::Cell<school::Student>::writer(real);
    std::string typo = real;
    typo.replace(typo.size() - 5, 5, "brav");
    const RunResult r = shmrec({"rm", typo});
    EXPECT_EQ(r.code(), 3) << r.describe();
    EXPECT_TRUE(contains(r.err, real)) << r.describe();
    EXPECT_TRUE(fs::exists(shm_path(real)));
}

TEST_F(ToolTest, RmRemovesARegionWhoseWriterDied) {
    const auto n = name("dead");
    make_with_dead_writer([&] { return shmrec::Ring<shmrec_test::Checked>::writer(n, 4); });
    ASSERT_TRUE(fs::exists(shm_path(n)));
    const RunResult r = shmrec({"rm", n});
    EXPECT_EQ(r.code(), 0) << r.describe();
    EXPECT_FALSE(fs::exists(shm_path(n)));
}

// ---- doctor ----

TEST_F(ToolTest, DoctorNamesAStaleRegionAndSuggestsRm) {
    const auto n = name("stale");
    make_with_dead_writer([&] { return shmrec::Cell<school::Student>::writer(n); });
    const RunResult r = shmrec({"doctor", "--json"});
    ASSERT_TRUE(r.code() == 0 || r.code() == 1) << r.describe();
    const json j = parse(r);
    bool found = false;
    for (const auto& f : j.at("findings")) {
        if (f.at("check") == "stale_region" && contains(f.at("message"), n)) {
            found = true;
            EXPECT_EQ(f.at("severity"), "warning");
            EXPECT_TRUE(contains(f.at("action"), "shmrec rm " + n)) << f.dump();
        }
    }
    EXPECT_TRUE(found) << r.describe();
}

TEST_F(ToolTest, DoctorRejectsANeedItCannotRead) {
    const RunResult r = shmrec({"doctor", "--need", "12Q"});
    EXPECT_EQ(r.code(), 2) << r.describe();
    EXPECT_TRUE(contains(r.err, "--need")) << r.describe();
}

// The tool inside its own mount and IPC namespaces, with a 64 KiB tmpfs on /dev/shm.
RunResult doctor_on_tiny_shm(const std::vector<std::string>& doctor_args) {
    std::vector<std::string> args{"--mount", "--ipc", "--propagation", "private", "sh", "-c",
                                  "mount -t tmpfs -o size=64k tmpfs /dev/shm && exec \"$0\" \"$@\"",
                                  SHMREC_TOOL, "doctor"};
    args.insert(args.end(), doctor_args.begin(), doctor_args.end());
    return shmrec_tool_test::run("unshare", args);
}

TEST_F(ToolTest, DoctorOnATinyShmInAContainerNamesTheShortage) {
    const RunResult probe = shmrec_tool_test::run(
        "unshare", {"--mount", "--ipc", "--propagation", "private", "sh", "-c",
                    "mount -t tmpfs -o size=64k tmpfs /dev/shm"});
    if (probe.code() != 0) {
        GTEST_SKIP() << "cannot make a private mount and IPC namespace here (unshare: "
                     << probe.err << "); needs root or CAP_SYS_ADMIN and util-linux's unshare";
    }

    RunResult r = doctor_on_tiny_shm({"--need", "1M"});
    EXPECT_EQ(r.code(), 1) << r.describe();
    EXPECT_TRUE(contains(r.out, "less than the 1.0 MiB needed")) << r.describe();
    EXPECT_TRUE(contains(r.out, "64.0 KiB")) << r.describe();
    EXPECT_TRUE(contains(r.out, "non-initial IPC namespace")) << r.describe();

    r = doctor_on_tiny_shm({"--need", "1M", "--json"});
    EXPECT_EQ(r.code(), 1) << r.describe();
    const json j = parse(r);
    EXPECT_EQ(j.at("ok"), false);
    EXPECT_EQ(j.at("shm").at("size"), 64 * 1024);
    EXPECT_EQ(j.at("system").at("initial_ipc_namespace"), false);
    bool shortage = false;
    for (const auto& f : j.at("findings")) {
        if (f.at("check") == "shm_space") {
            shortage = f.at("severity") == "error";
            EXPECT_TRUE(f.at("action").is_string());
        }
    }
    EXPECT_TRUE(shortage) << r.describe();

    // The same small /dev/shm is enough for a smaller need: the shortage was measured.
    r = doctor_on_tiny_shm({"--need", "16K"});
    EXPECT_EQ(r.code(), 0) << r.describe();
}

// RemoveIPC as logind would see it, for a regular user while logind runs: the tool runs in its
// own mount namespace with its own /etc/systemd (the main file says no, a drop-in says yes:
// the drop-in wins) and /run (logind's /run/systemd/users present), as user nobody.
TEST_F(ToolTest, DoctorWarnsARegularUserOfLogindRemoveIPCFromTheWinningDropIn) {
    if (::geteuid() != 0 || !fs::is_directory("/etc/systemd")) {
        GTEST_SKIP() << "needs root and an /etc/systemd to mount over";
    }
    const std::string script =
        "mount -t tmpfs tmpfs /etc/systemd && mkdir /etc/systemd/logind.conf.d && "
        "printf '[Login]\\nRemoveIPC=no\\n' > /etc/systemd/logind.conf && "
        "printf '[Login]\\n# a comment\\nRemoveIPC=yes\\n' > "
        "/etc/systemd/logind.conf.d/zz-shmrec-test.conf && "
        "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/users && "
        "exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$0\" doctor --json";
    const RunResult r = shmrec_tool_test::run(
        "unshare", {"--mount", "--propagation", "private", "sh", "-c", script, SHMREC_TOOL});
    if (r.code() != 0 && r.code() != 1) {
        GTEST_SKIP() << "cannot run the tool in a private mount namespace as nobody here:\n"
                     << r.describe();
    }
    const json j = parse(r);
    EXPECT_EQ(j.at("system").at("remove_ipc"), true) << r.describe();
    EXPECT_EQ(j.at("system").at("remove_ipc_source"),
              "/etc/systemd/logind.conf.d/zz-shmrec-test.conf");
    EXPECT_EQ(j.at("system").at("logind_running"), true);
    bool warned = false;
    for (const auto& f : j.at("findings")) {
        if (f.at("check") == "remove_ipc") {
            warned = f.at("severity") == "warning";
            EXPECT_TRUE(contains(f.at("message"), "uid 65534")) << f.dump();
            EXPECT_TRUE(contains(f.at("action"), "RemoveIPC=no")) << f.dump();
        }
    }
    EXPECT_TRUE(warned) << r.describe();
}

TEST_F(ToolTest, DoctorSparesRootFromLogindRemoveIPC) {
    if (::geteuid() != 0) GTEST_SKIP() << "runs as root";
    const json j = parse(shmrec({"doctor", "--json"}));
    bool spared = false;
    for (const auto& f : j.at("findings")) {
        if (f.at("check") == "remove_ipc") {
            spared = f.at("severity") == "ok";
            if (j.at("system").at("remove_ipc") == true) {
                EXPECT_TRUE(contains(f.at("message"), "spares root")) << f.dump();
            }
        }
    }
    EXPECT_TRUE(spared) << j.dump(2);
}

}  // namespace
