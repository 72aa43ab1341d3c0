// The Windows protocols, forced into their interleavings with fault points (docs/windows.md):
//
// - lock slots (runtime/src/windows/lock_slots.cpp): a taker stopped (or killed) between
//   creating its own token and probing for the other kind, while another process takes the
//   slot the other way (fault points slots.exclusive.after_token, slots.shared.after_token);
// - (event words: a sleeper stopped between creating its event and its last check of the word,
//   wait.after_event, is Wakeups/LostWakeup in wakeup_test.cpp;)
// - file-backed regions: a path the ANSI code page cannot spell, the named file-mapping object
//   over the file, and the reclaim of a stale region file that another process still holds
//   (where a plain DeleteFileW leaves the name "delete pending").
//
// Every test here is about a Windows mechanism; on Linux each one skips and says why (the OFD
// locks and the futex have no such window: one system call each).
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "reliability_support.hpp"
#include "reliability_test_support.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/shmrec.hpp"

#if defined(_WIN32)
#include <sddl.h>

#include <atomic>
#include <filesystem>
#include <cstdio>
#include <cstring>
#endif

namespace reltest {
namespace {

#if defined(_WIN32)
constexpr const char* linux_skip = "";
#else
constexpr const char* linux_skip =
    "Windows-only: the protocol under test is Windows' (named tokens and events); on Linux the "
    "fault point does not exist (an OFD lock or a futex wait is one system call)";
#endif

// The shared "attached" lock slot (detail::LockSlot::attached), the one taken both ways.
constexpr int attached_slot = static_cast<int>(shmrec::detail::LockSlot::attached);

#if defined(_WIN32)
// "slot held=1" -> true.
bool held(Peer& p) {
    const std::string line = p.expect_line("slot", 10s);
    EXPECT_FALSE(line.empty()) << join(p.lines());
    return line_value(line, "held") == "1";
}

void quit(Peer& p) {
    send_if_alive(p, "quit");
    p.wait_exit(exit_timeout);
}

std::vector<std::string> slot_args(const std::string& name, int slot, const char* mode) {
    return {"slot", "--name", name, "--slot", std::to_string(slot), "--mode", mode};
}

// Ends a `write ... --hold` peer once it has written: true when it exits normally.
bool stop_writer(Peer& holder) {
    EXPECT_FALSE(holder.expect_line("done", 10s).empty()) << join(holder.lines());
    send_if_alive(holder, "quit");
    return holder.wait_exit(exit_timeout).exited;
}

// A region file in the temp folder whose name no ANSI code page spells (German and Japanese),
// removed with whatever reclaims left beside it ("<name>.shmrec-removed.<pid>.<n>").
class NonAsciiFile {
public:
    NonAsciiFile() {
        static std::atomic<unsigned> counter{0};
        path_ = std::filesystem::temp_directory_path().wstring() + L"gr\u00fc\u00dfe-\u65e5\u672c-" +
                std::to_wstring(::GetCurrentProcessId()) + L"-" +
                std::to_wstring(counter.fetch_add(1)) + L".shm";
    }
    NonAsciiFile(const NonAsciiFile&) = delete;
    NonAsciiFile& operator=(const NonAsciiFile&) = delete;
    ~NonAsciiFile() {
        ::DeleteFileW(path_.c_str());
        for (const auto& f : leftovers()) ::DeleteFileW(f.c_str());
    }
    std::string utf8() const { return shmrec_test::win::narrow(path_); }
    bool exists() const { return ::GetFileAttributesW(path_.c_str()) != INVALID_FILE_ATTRIBUTES; }
    // Files renamed away by a reclaim that some process still held.
    std::vector<std::wstring> leftovers() const {
        std::vector<std::wstring> out;
        const auto dir = std::filesystem::path(path_).parent_path();
        WIN32_FIND_DATAW found{};
        const HANDLE h = ::FindFirstFileW((path_ + L".shmrec-removed.*").c_str(), &found);
        if (h == INVALID_HANDLE_VALUE) return out;
        do {
            out.push_back((dir / found.cFileName).wstring());
        } while (::FindNextFileW(h, &found));
        ::FindClose(h);
        return out;
    }
    // The name of the file's mapping object, as runtime/src/windows/object_names.cpp makes it
    // ("" when the file cannot be asked).
    std::wstring mapping_name() const {
        const HANDLE f = ::CreateFileW(path_.c_str(), FILE_READ_ATTRIBUTES,
                                       FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                       nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
        if (f == INVALID_HANDLE_VALUE) return {};
        FILE_ID_INFO id{};
        const bool ok = ::GetFileInformationByHandleEx(f, FileIdInfo, &id, sizeof id);
        ::CloseHandle(f);
        if (!ok) return {};
        std::uint64_t low = 0, high = 0;
        std::memcpy(&low, id.FileId.Identifier, 8);
        std::memcpy(&high, id.FileId.Identifier + 8, 8);
        char name[128];
        std::snprintf(name, sizeof name, "Local\\shmrec#file#%016llx#%016llx%016llx#map",
                      static_cast<unsigned long long>(id.VolumeSerialNumber),
                      static_cast<unsigned long long>(high), static_cast<unsigned long long>(low));
        return shmrec_test::win::widen(name);
    }
    static bool mapping_exists(const std::wstring& name) {
        const HANDLE h = ::OpenFileMappingW(FILE_MAP_READ, FALSE, name.c_str());
        if (h == nullptr) return ::GetLastError() == ERROR_ACCESS_DENIED;
        ::CloseHandle(h);
        return true;
    }

private:
    std::wstring path_;
};
#endif

// ---- lock slots ----------------------------------------------------------------------------

// A taker stopped after creating its token, before probing for the other kind, while a second
// process takes the slot the other way. The second one sees the first one's token and is
// refused; the first, resumed, finds no token of the other kind (the refused taker closed
// its own) and holds the slot. Never both.
struct SlotRace {
    const char* stopped_mode;  // the mode of the taker stopped at its fault point
    const char* other_mode;
    const char* point;
};

void PrintTo(const SlotRace& r, std::ostream* os) {
    *os << r.stopped_mode << " taker stopped at " << r.point << ", then " << r.other_mode;
}

class SlotTakers : public ::testing::TestWithParam<SlotRace> {
protected:
    Names names_;
};

TEST_P(SlotTakers, TakerStoppedBetweenItsTokenAndItsProbeExcludesTheOtherMode) {
#if !defined(_WIN32)
    GTEST_SKIP() << linux_skip;
#else
    const SlotRace race = GetParam();
    const std::string name = names_.make("slots");
    Peer stopped(slot_args(name, attached_slot, race.stopped_mode),
                 std::string(race.point) + ":1:stop");
    ASSERT_TRUE(stopped.wait_stopped(10s)) << "never reached " << race.point << ": "
                                           << join(stopped.lines());
    Peer other(slot_args(name, attached_slot, race.other_mode));
    const bool other_held = held(other);
    EXPECT_FALSE(other_held) << "the " << race.other_mode << " taker got the slot while the "
                             << race.stopped_mode << " taker's token existed";
    stopped.signal(SIGCONT);
    const bool stopped_held = held(stopped);
    EXPECT_FALSE(stopped_held && other_held) << "both hold the slot";
    // The loser closed its token, so the resumed taker's probe finds nothing: it holds.
    EXPECT_TRUE(stopped_held);
    quit(other);
    quit(stopped);
#endif
}

// Both takers stopped after their tokens: each, resumed, sees the other's token. The first
// resumed backs off (and closes its token); the second then may hold. Never both.
TEST_P(SlotTakers, TwoTakersStoppedAfterTheirTokensNeverBothHold) {
#if !defined(_WIN32)
    GTEST_SKIP() << linux_skip;
#else
    const SlotRace race = GetParam();
    const std::string name = names_.make("slots2");
    const std::string other_point = std::string(race.point) == "slots.exclusive.after_token"
                                        ? "slots.shared.after_token"
                                        : "slots.exclusive.after_token";
    Peer first(slot_args(name, attached_slot, race.stopped_mode),
               std::string(race.point) + ":1:stop");
    ASSERT_TRUE(first.wait_stopped(10s)) << join(first.lines());
    Peer second(slot_args(name, attached_slot, race.other_mode), other_point + ":1:stop");
    ASSERT_TRUE(second.wait_stopped(10s)) << join(second.lines());
    first.signal(SIGCONT);
    const bool first_held = held(first);
    EXPECT_FALSE(first_held) << "the second taker's token existed when the first one probed";
    second.signal(SIGCONT);
    const bool second_held = held(second);
    EXPECT_FALSE(first_held && second_held) << "both hold the slot";
    EXPECT_TRUE(second_held) << "the first taker backed off and closed its token";
    quit(first);
    quit(second);
#endif
}

INSTANTIATE_TEST_SUITE_P(
    WindowsProtocols, SlotTakers,
    ::testing::Values(SlotRace{"exclusive", "shared", "slots.exclusive.after_token"},
                      SlotRace{"shared", "exclusive", "slots.shared.after_token"}),
    [](const auto& i) { return std::string(i.param.stopped_mode) + "_stopped"; });

// A taker killed (TerminateProcess) between creating its token and its probe: the kernel
// closes its handles, so its token goes and the slot is free for the next taker, in either mode.
class KilledTaker : public ::testing::TestWithParam<const char*> {
protected:
    Names names_;
};

TEST_P(KilledTaker, TakerKilledAfterItsTokenFreesTheSlot) {
#if !defined(_WIN32)
    GTEST_SKIP() << linux_skip;
#else
    const std::string mode = GetParam();
    const std::string name = names_.make("killed");
    Peer killed(slot_args(name, attached_slot, mode.c_str()), "slots." + mode + ".after_token:1:kill");
    EXPECT_EQ(killed.wait_exit(exit_timeout).signal, SIGKILL) << join(killed.lines());
    for (const char* next : {"exclusive", "shared"}) {
        Peer taker(slot_args(name, attached_slot, next));
        EXPECT_TRUE(held(taker)) << next << " taker refused after the " << mode
                                 << " taker was killed holding its token";
        quit(taker);
    }
#endif
}

INSTANTIATE_TEST_SUITE_P(WindowsProtocols, KilledTaker, ::testing::Values("exclusive", "shared"),
                         [](const auto& i) { return std::string(i.param); });

// The same window at the level of a region: a writer taking over a region (open_only) stopped
// after creating its writer token, before its probe. A second writer is refused with
// writer_active (not a generic failure), and the first, resumed, becomes the writer.
TEST(WindowsProtocols, WriterStoppedAfterItsTokenMakesTheSecondWriterWriterActive) {
#if !defined(_WIN32)
    GTEST_SKIP() << linux_skip;
#else
    Names names;
    const std::string name = names.make("takeover");
    {
        Peer creator({"write", "--kind", "cell", "--name", name, "--count", "1", "--hold"});
        ASSERT_FALSE(creator.expect_line("ready").empty()) << join(creator.lines());
        // A reader keeps the paging-file region alive after its writer is gone.
        Peer keeper({"read", "--kind", "cell", "--name", name, "--quiet", "--deadline-ms",
                     "60000"});
        ASSERT_FALSE(keeper.expect_line("ready").empty()) << join(keeper.lines());
        // Killed, not closed: a closed channel would end the keeper too.
        creator.signal(SIGKILL);
        ASSERT_EQ(creator.wait_exit(exit_timeout).signal, SIGKILL);

        // The writer's open takes the attached slot shared, then the writer slot: the first
        // exclusive token it makes is the writer's.
        Peer first({"write", "--kind", "cell", "--name", name, "--open", "open", "--count", "1",
                    "--hold"},
                   "slots.exclusive.after_token:1:stop");
        ASSERT_TRUE(first.wait_stopped(10s)) << join(first.read_all(1s));
        Peer second({"write", "--kind", "cell", "--name", name, "--open", "open", "--count",
                     "1"});
        const std::string refused = second.expect_line("error", 10s);
        EXPECT_EQ(line_value(refused, "code"), "writer_active") << join(second.lines());
        second.wait_exit(exit_timeout);
        first.signal(SIGCONT);
        EXPECT_FALSE(first.expect_line("ready", 10s).empty()) << join(first.lines());
        EXPECT_TRUE(stop_writer(first));
        quit(keeper);
    }
#endif
}

// Companion-name squatting: someone else creates a region's writer token first (the session
// namespace is open to every process in it). The writer is refused, and says why: the token
// is not ours (untrusted_region), not "a live writer" (writer_active).
TEST(WindowsProtocols, SquattedWriterTokenIsUntrustedRegionNotWriterActive) {
#if !defined(_WIN32)
    GTEST_SKIP() << "Windows-only: named lock tokens (POSIX locks bytes of the region's own "
                    "descriptor: no name to squat)";
#else
    Names names;
    const std::string name = names.make("squat");
    const std::wstring token = shmrec_test::win::widen("Local\\shmrec#" + name + "#lock.x0");
    // Owned by LocalService, as a squatter's would be by its user; where the OS refuses to
    // give an object an owner the creator is not (Windows: ERROR_INVALID_OWNER), the default
    // (Wine gives such an object no owner at all).
    SECURITY_ATTRIBUTES security{sizeof(SECURITY_ATTRIBUTES), nullptr, FALSE};
    ASSERT_TRUE(::ConvertStringSecurityDescriptorToSecurityDescriptorW(
        L"O:LSD:(A;;GA;;;WD)", SDDL_REVISION_1, &security.lpSecurityDescriptor, nullptr));
    HANDLE planted = ::CreateEventW(&security, TRUE, FALSE, token.c_str());
    ::LocalFree(security.lpSecurityDescriptor);
    if (planted == nullptr) planted = ::CreateEventW(nullptr, TRUE, FALSE, token.c_str());
    ASSERT_NE(planted, nullptr);
    try {
        auto w = shmrec::Cell<shmrec_test::Checked>::writer(name);
        ::CloseHandle(planted);
        GTEST_SKIP() << "the planted token is owned by this user here: nothing to tell apart";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::untrusted_region) << e.what();
        EXPECT_NE(std::string(e.what()).find("lock token"), std::string::npos) << e.what();
        std::cout << "squatted token: " << e.what() << "\n";
    }
    ::CloseHandle(planted);
    auto w = shmrec::Cell<shmrec_test::Checked>::writer(name);  // fine once it is gone
#endif
}

// ---- file-backed regions -------------------------------------------------------------------

// A region file at a path outside the ANSI code page: records go from one process to another,
// through the named file-mapping object over the file, which exists exactly while a
// participant holds the region. (Boost's file_mapping, used before, opened the path again
// with CreateFileA: "grüße-日本" became "gr??e-??" and the open failed.)
TEST(WindowsFileRegion, NonAsciiPathRoundTripsRecordsThroughTheNamedMapping) {
#if !defined(_WIN32)
    GTEST_SKIP() << "Windows-only: paths outside the ANSI code page and the named file-mapping "
                    "object over a region file (Linux paths are bytes; mmap needs no object)";
#else
    NonAsciiFile file;
    const int records = 20;
    Peer writer({"write", "--kind", "ring", "--file", "--name", file.utf8(), "--capacity", "8",
                 "--count", std::to_string(records), "--wait-go", "--hold"});
    ASSERT_FALSE(writer.expect_line("ready", 10s).empty()) << join(writer.lines());
    ASSERT_TRUE(file.exists()) << "no file at the non-ASCII path";
    const std::wstring mapping = file.mapping_name();
    ASSERT_FALSE(mapping.empty());
    EXPECT_TRUE(NonAsciiFile::mapping_exists(mapping)) << "the writer holds no named mapping";
    Peer reader({"read", "--kind", "ring", "--file", "--name", file.utf8(), "--timeout-ms", "100",
                 "--deadline-ms", "20000"});
    ASSERT_FALSE(reader.expect_line("ready", 10s).empty()) << join(reader.lines());
    writer.send("go");
    EXPECT_FALSE(reader.expect_line("r seq=" + std::to_string(records - 1), 10s).empty())
        << join(reader.lines());
    EXPECT_TRUE(NonAsciiFile::mapping_exists(mapping));
    EXPECT_TRUE(stop_writer(writer));  // its close() ends the reader too ("closed")
    EXPECT_TRUE(reader.wait_exit(exit_timeout).exited);
    const ReaderLog log(reader.lines());
    EXPECT_EQ(log.seqs(), iota_seqs(0, records));
    EXPECT_EQ(log.bad(), 0u);
    EXPECT_FALSE(NonAsciiFile::mapping_exists(mapping))
        << "the mapping object outlived every participant";
    EXPECT_TRUE(file.exists()) << "a file region persists";
#endif
}

// Something else at the name of the file's mapping object: a paging-file mapping planted there
// (the session namespace is open to every process of the session) is not a view of the file:
// untrusted_region, never a region whose records live somewhere else.
TEST(WindowsFileRegion, PagingFileMappingAtTheFilesMappingNameIsUntrusted) {
#if !defined(_WIN32)
    GTEST_SKIP() << "Windows-only: the named file-mapping object over a region file";
#else
    NonAsciiFile file;
    const auto where = shmrec::Location::file(file.utf8());
    { auto w = shmrec::Cell<shmrec_test::Checked>::writer(where); }
    ASSERT_TRUE(file.exists());
    // Owned by this user with an owner-only DACL, as a participant's would be: only what backs
    // it gives it away.
    HANDLE token = nullptr;
    ASSERT_TRUE(::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token));
    unsigned char user[256];
    DWORD size = 0;
    ASSERT_TRUE(::GetTokenInformation(token, TokenUser, user, sizeof user, &size));
    ::CloseHandle(token);
    LPWSTR sid = nullptr;
    ASSERT_TRUE(::ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(user)->User.Sid, &sid));
    const std::wstring sddl = std::wstring(L"O:") + sid + L"D:P(A;;GA;;;" + sid + L")";
    ::LocalFree(sid);
    SECURITY_ATTRIBUTES security{sizeof(SECURITY_ATTRIBUTES), nullptr, FALSE};
    ASSERT_TRUE(::ConvertStringSecurityDescriptorToSecurityDescriptorW(
        sddl.c_str(), SDDL_REVISION_1, &security.lpSecurityDescriptor, nullptr));
    const HANDLE planted = ::CreateFileMappingW(INVALID_HANDLE_VALUE, &security, PAGE_READWRITE,
                                                0, 1 << 20, file.mapping_name().c_str());
    ::LocalFree(security.lpSecurityDescriptor);
    ASSERT_NE(planted, nullptr);
    try {
        auto r = shmrec::Cell<shmrec_test::Checked>::reader(where);
        ADD_FAILURE() << "opened a region through a paging-file mapping";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::untrusted_region) << e.what();
        EXPECT_NE(std::string(e.what()).find("paging file"), std::string::npos) << e.what();
    }
    ::CloseHandle(planted);
    auto r = shmrec::Cell<shmrec_test::Checked>::reader(where);  // and fine without it
#endif
}

// A stale region file (writer and reader killed) that another process still holds open (an
// opener stopped right after its open): the next writer reclaims it at once. With a plain
// DeleteFileW the name stayed "delete pending" while the opener held the file (Wine, and
// Windows without POSIX delete semantics), CREATE_NEW failed, and the writer gave up with
// already_exists after init_timeout. The resumed opener ends on the new region, never on the
// removed one.
TEST(WindowsFileRegion, StaleFileStillHeldByAnotherProcessIsReclaimed) {
#if !defined(_WIN32)
    GTEST_SKIP() << "Windows-only: a file name left delete-pending by an open handle (POSIX "
                    "unlink frees the name at once: Lifecycle.OpenerDuringReclaim covers Linux)";
#else
    NonAsciiFile file;
    const std::string path = file.utf8();
    {
        Peer writer({"write", "--kind", "cell", "--file", "--name", path, "--interval-us", "500"});
        ASSERT_FALSE(writer.expect_line("ready", 10s).empty()) << join(writer.lines());
        Peer reader({"read", "--kind", "cell", "--file", "--name", path, "--quiet"});
        ASSERT_FALSE(reader.expect_line("ready", 10s).empty()) << join(reader.lines());
        writer.signal(SIGKILL);
        reader.signal(SIGKILL);
        EXPECT_EQ(writer.wait_exit(exit_timeout).signal, SIGKILL);
        EXPECT_EQ(reader.wait_exit(exit_timeout).signal, SIGKILL);
    }
    ASSERT_TRUE(file.exists());
    Peer opener({"open", "--kind", "cell", "--file", "--name", path, "--init-timeout-ms", "5000"},
                "open.after_open:1:stop");
    ASSERT_TRUE(opener.wait_stopped(10s)) << join(opener.lines());

    const auto t0 = Clock::now();
    Peer creator({"write", "--kind", "cell", "--file", "--name", path, "--count", "1", "--hold"});
    const std::string ready = creator.expect_line("", 10s);
    std::cout << "reclaim with the old file held: " << ms_since(t0) << " ms: " << ready << "\n";
    ASSERT_TRUE(starts_with(ready, "ready")) << join(creator.lines());
    EXPECT_EQ(line_value(ready, "created"), "1") << ready;
    // Renamed away while held (none where the delete had POSIX semantics: Windows 10 NTFS).
    EXPECT_LE(file.leftovers().size(), 1u);

    opener.signal(SIGCONT);
    const std::string first = opener.expect_line("", 10s);
    ASSERT_FALSE(first.empty()) << "the resumed opener said nothing";
    if (!starts_with(first, "error")) {
        EXPECT_TRUE(starts_with(first, "opened")) << first;
        EXPECT_EQ(line_value(first, "ino"), line_value(ready, "ino"))
            << "the opener attached to the removed region: " << first;
    } else {
        EXPECT_NE(line_value(first, "code"), "") << first;
    }
    opener.wait_exit(exit_timeout);
    EXPECT_TRUE(stop_writer(creator));
    EXPECT_TRUE(file.leftovers().empty()) << "the renamed stale file outlived its last handle";
    EXPECT_TRUE(file.exists());
#endif
}

}  // namespace
}  // namespace reltest
