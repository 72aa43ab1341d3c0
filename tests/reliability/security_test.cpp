// Permissions, squatting, symlinks, hostile names, read-only readers and stale payloads
// (RELIABILITY S1, S2, S3, S4, S5, S6, S8). S2 runs a child as user nobody (needs root); S7
// needs a group set up; S9 is Windows.
#include <gtest/gtest.h>
#if !defined(_WIN32)
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "reliability_support.hpp"
#include "reliability_test_support.hpp"
#include "shmrec/shmrec.hpp"

namespace reltest {
namespace {

using shmrec::ErrorCode;
using shmrec::Location;
using shmrec_test::Checked;
using shmrec_test::Other;

// The code of the shmrec::Error `fn` throws; nullopt when it throws nothing.
std::optional<ErrorCode> error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const shmrec::Error& e) {
        return e.code();
    }
    return std::nullopt;
}

std::string describe(std::optional<ErrorCode> c) {
    return c ? std::string(shmrec::to_string(*c)) : std::string("no error");
}

#if !defined(_WIN32)  // helpers of the Linux-only tests (modes, umask, squatting)
unsigned mode_of(const std::string& path) {
    const auto st = stat_path(path);
    return st ? (st->st_mode & 07777) : 0;
}

std::string contents(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Restores the umask whatever the test does.
class UmaskGuard {
public:
    explicit UmaskGuard(mode_t m) : old_(::umask(m)) {}
    ~UmaskGuard() { ::umask(old_); }
    UmaskGuard(const UmaskGuard&) = delete;
    UmaskGuard& operator=(const UmaskGuard&) = delete;

private:
    mode_t old_;
};
#endif

// S1: a new region is owner-only (0600) whatever the umask, for every channel kind and for
// file-backed regions; an explicit 0660 is applied exactly too.
TEST(Security, NewRegionsAreOwnerOnlyUnderAPermissiveUmask) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: file modes and the umask; a Windows region is guarded by an explicit DACL instead";
#else
    Names names;
    const UmaskGuard umask_zero(0);
    const std::string cell = names.make("mode-cell");
    const std::string ring = names.make("mode-ring");
    const std::string bcast = names.make("mode-bcast");
    const std::string file = names.make_file("mode-file");
    const std::string group = names.make("mode-group");
    auto c = shmrec::Cell<Checked>::writer(cell);
    auto r = shmrec::Ring<Checked>::writer(ring, 8);
    auto b = shmrec::Broadcast<Checked>::writer(bcast, 8);
    auto f = shmrec::Cell<Checked>::writer(Location::file(file));
    shmrec::RegionOptions shared;
    shared.permissions = 0660;
    auto g = shmrec::Cell<Checked>::writer(group, shmrec::OpenMode::create_only, shared);
    EXPECT_EQ(mode_of(shm_path(cell)), 0600u);
    EXPECT_EQ(mode_of(shm_path(ring)), 0600u);
    EXPECT_EQ(mode_of(shm_path(bcast)), 0600u);
    EXPECT_EQ(mode_of(file), 0600u);
    EXPECT_EQ(mode_of(shm_path(group)), 0660u);
#endif
}

// Creates `path` as a squatter would, with `mode` and some bytes; returns its inode.
#if !defined(_WIN32)
ino_t squat(const std::string& path, mode_t mode, uid_t owner = ::geteuid()) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0) << path;
    const std::string bytes = "squatter's bytes";
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    EXPECT_EQ(::fchmod(fd, mode), 0);
    if (owner != ::geteuid()) {
        EXPECT_EQ(::fchown(fd, owner, owner), 0);
    }
    struct stat st {};
    ::fstat(fd, &st);
    ::close(fd);
    return st.st_ino;
}

void expect_refused_everywhere(const std::string& name, const std::set<ErrorCode>& create_codes) {
    const auto create = error_of([&] { auto w = shmrec::Cell<Checked>::writer(name); });
    EXPECT_TRUE(create && create_codes.count(*create)) << "create: " << describe(create);
    const auto either = error_of([&] {
        auto w = shmrec::Cell<Checked>::writer(name, shmrec::OpenMode::open_or_create);
    });
    EXPECT_EQ(either, ErrorCode::untrusted_region) << "open_or_create: " << describe(either);
    const auto take = error_of([&] {
        auto w = shmrec::Cell<Checked>::writer(name, shmrec::OpenMode::open_only);
    });
    EXPECT_EQ(take, ErrorCode::untrusted_region) << "open_only writer: " << describe(take);
    const auto read = error_of([&] { auto r = shmrec::Cell<Checked>::reader(name); });
    EXPECT_EQ(read, ErrorCode::untrusted_region) << "reader: " << describe(read);
    const auto ring = error_of([&] { auto r = shmrec::Ring<Checked>::reader(name); });
    EXPECT_EQ(ring, ErrorCode::untrusted_region) << "ring reader: " << describe(ring);
}
#endif

// S3: a name squatted by the same user with a world-writable mode. Creating fails clearly,
// opening in any role says untrusted_region, and nothing is written into the squatted file.
TEST(Security, SquattedWorldWritableNameIsRefusedAndNeverWritten) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: a world-writable file squatting the name in /dev/shm (file modes)";
#else
    Names names;
    const std::string name = names.make("squat");
    const ino_t ino = squat(shm_path(name), 0666);
    const std::string before = contents(shm_path(name));
    expect_refused_everywhere(name, {ErrorCode::already_exists, ErrorCode::untrusted_region});
    const auto st = stat_path(shm_path(name));
    ASSERT_TRUE(st);
    EXPECT_EQ(st->st_ino, ino);
    EXPECT_EQ(st->st_mode & 07777, 0666u);
    EXPECT_EQ(contents(shm_path(name)), before);
#endif
}

// S3 (continued): even once the squatted file is older than init_timeout and nobody holds it,
// a file others may write is never taken for a stale leftover of ours: create refuses it as
// untrusted, and never writes into it.
TEST(Security, OldSquattedFileIsNeverWrittenInto) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: a world-writable file squatting the name in /dev/shm (file modes)";
#else
    Names names;
    const std::string name = names.make("squat-old");
    squat(shm_path(name), 0666);
    const int held = ::open(shm_path(name).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(held, 0);
    std::this_thread::sleep_for(150ms);
    shmrec::RegionOptions quick;
    quick.init_timeout = 50ms;
    const auto create = error_of([&] {
        auto w = shmrec::Cell<Checked>::writer(name, shmrec::OpenMode::create_only, quick);
    });
    ASSERT_TRUE(create) << "create over a world-writable squat must fail";
    EXPECT_EQ(*create, ErrorCode::untrusted_region);
    EXPECT_EQ(mode_of(shm_path(name)), 0666u);
    char buf[64] = {};
    const auto n = ::pread(held, buf, sizeof buf, 0);
    ::close(held);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(std::max<ssize_t>(n, 0))),
              "squatter's bytes");
#endif
}

// S3: a name squatted by another user (nobody): refused, never removed, never written, even
// once it is older than init_timeout.
TEST(Security, NameOwnedByAnotherUserIsUntrustedAndNeverRemoved) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: a /dev/shm file owned by another uid (chown)";
#else
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown the squatted file";
    Names names;
    const std::string name = names.make("squat-nobody");
    const ino_t ino = squat(shm_path(name), 0600, 65534);
    const std::string before = contents(shm_path(name));
    expect_refused_everywhere(name, {ErrorCode::already_exists, ErrorCode::untrusted_region});
    std::this_thread::sleep_for(150ms);
    shmrec::RegionOptions quick;
    quick.init_timeout = 50ms;
    const auto create = error_of([&] {
        auto w = shmrec::Cell<Checked>::writer(name, shmrec::OpenMode::create_only, quick);
    });
    EXPECT_TRUE(create == ErrorCode::already_exists || create == ErrorCode::untrusted_region)
        << describe(create);
    const auto st = stat_path(shm_path(name));
    ASSERT_TRUE(st);
    EXPECT_EQ(st->st_ino, ino);
    EXPECT_EQ(st->st_uid, 65534u);
    EXPECT_EQ(contents(shm_path(name)), before);
#endif
}

// S2: another user (nobody, in a forked child that dropped root) cannot open an owner-only
// region, as reader or writer: permission_denied, and the owner's writer is unaffected.
TEST(Security, AnotherUserCannotOpenAnOwnerOnlyRegion) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: fork() and setuid(nobody); Wine runs every process as one user";
#else
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a child as another user";
    Names names;
    const std::string name = names.make("other-user");
    auto writer = shmrec::Cell<Checked>::writer(name);
    ASSERT_EQ(writer.try_write(shmrec_test::make_checked(1)), shmrec::WriteStatus::ok);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(90);
        const auto as_reader = error_of([&] { auto r = shmrec::Cell<Checked>::reader(name); });
        const auto as_writer = error_of(
            [&] { auto w = shmrec::Cell<Checked>::writer(name, shmrec::OpenMode::open_only); });
        const bool denied = as_reader == ErrorCode::permission_denied &&
                            as_writer == ErrorCode::permission_denied;
        ::_exit(denied ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "child died by a signal";
    EXPECT_NE(WEXITSTATUS(status), 90) << "could not drop to user nobody";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "another user was not refused with permission_denied";
    ASSERT_EQ(writer.try_write(shmrec_test::make_checked(2)), shmrec::WriteStatus::ok);
    auto reader = shmrec::Cell<Checked>::reader(name);
    Checked got{};
    ASSERT_EQ(reader.try_read(got), shmrec::ReadStatus::ok);
    EXPECT_EQ(got.seq, 2u);
#endif
}

// S4: a symlink planted at the name (a file-backed path, or in /dev/shm) is never followed:
// every open is refused and the target is unchanged.
TEST(Security, SymlinkAtTheNameIsRefusedAndItsTargetUnchanged) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: symlink squatting (O_NOFOLLOW)";
#else
    Names names;
    const std::string target = names.make_file("secret");
    {
        std::ofstream(target) << "secret contents";
    }
    const std::string link = names.make_file("link");
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    const auto create = error_of([&] { auto w = shmrec::Cell<Checked>::writer(Location::file(link)); });
    EXPECT_TRUE(create == ErrorCode::already_exists || create == ErrorCode::untrusted_region)
        << describe(create);
    const auto either = error_of([&] {
        auto w = shmrec::Cell<Checked>::writer(Location::file(link), shmrec::OpenMode::open_or_create);
    });
    EXPECT_EQ(either, ErrorCode::untrusted_region) << describe(either);
    const auto read = error_of([&] { auto r = shmrec::Cell<Checked>::reader(Location::file(link)); });
    EXPECT_EQ(read, ErrorCode::untrusted_region) << describe(read);

    const std::string shm_name = names.make("link");
    ASSERT_EQ(::symlink(target.c_str(), shm_path(shm_name).c_str()), 0);
    const auto shm_create = error_of([&] { auto w = shmrec::Cell<Checked>::writer(shm_name); });
    EXPECT_TRUE(shm_create == ErrorCode::already_exists ||
                shm_create == ErrorCode::untrusted_region)
        << describe(shm_create);
    const auto shm_read = error_of([&] { auto r = shmrec::Cell<Checked>::reader(shm_name); });
    EXPECT_EQ(shm_read, ErrorCode::untrusted_region) << describe(shm_read);

    EXPECT_EQ(contents(target), "secret contents");
    const auto lst = stat_path(link);
    ASSERT_TRUE(lst);
    EXPECT_TRUE(S_ISLNK(lst->st_mode));
#endif
}

// S5: hostile names are rejected as invalid_name before any system call: nothing appears in
// /dev/shm or next to it.
TEST(Security, HostileNamesAreInvalidAndCreateNothing) {
    const std::vector<std::string> hostile = {
        "../x",          "a/b",     std::string(300, 'a'), "",           std::string("a\0b", 3),
        "caf\xc3\xa9",   "/abs",    ".hidden",             "sp ace",     "..",
        "x\n",           "\xff\xfe"};
#if !defined(_WIN32)  // Windows: no files; an object is only made by a create, refused here
    const auto shm_before = entries_with_prefix("/dev/shm", "");
    const auto dev_before = entries_with_prefix("/dev", "");
#endif
    for (const auto& n : hostile) {
        SCOPED_TRACE("name of " + std::to_string(n.size()) + " bytes");
        const Location where = Location::memory(n);
        EXPECT_EQ(error_of([&] { auto w = shmrec::Cell<Checked>::writer(where); }),
                  ErrorCode::invalid_name);
        EXPECT_EQ(error_of([&] { auto w = shmrec::Ring<Checked>::writer(where, 8); }),
                  ErrorCode::invalid_name);
        EXPECT_EQ(error_of([&] { auto w = shmrec::Broadcast<Checked>::writer(where, 8); }),
                  ErrorCode::invalid_name);
        EXPECT_EQ(error_of([&] { auto r = shmrec::Cell<Checked>::reader(where); }),
                  ErrorCode::invalid_name);
        EXPECT_EQ(error_of([&] { (void)shmrec::remove_region(where); }), ErrorCode::invalid_name);
    }
    for (const auto& n : {std::string(), std::string("/tmp/a\0b", 8), std::string("/tmp/")}) {
        EXPECT_EQ(error_of([&] { auto w = shmrec::Cell<Checked>::writer(Location::file(n)); }),
                  ErrorCode::invalid_name);
    }
#if !defined(_WIN32)
    EXPECT_EQ(entries_with_prefix("/dev/shm", ""), shm_before);
    EXPECT_EQ(entries_with_prefix("/dev", ""), dev_before);
#endif
}

class ReadOnlyReader : public ::testing::TestWithParam<const char*> {
protected:
    Names names_;
};

// S6: a reader cannot write into the region: its mapping of the records is read-only, so a
// buggy reader dies by SIGSEGV (in the child) and the writer and other readers go on.
TEST_P(ReadOnlyReader, WritingThroughTheMappingFaultsAndTheWriterGoesOn) {
    const std::string kind = GetParam();
    const std::string name = names_.make("scribble");
    Peer writer({"write", "--kind", kind, "--name", name, "--capacity", "64", "--interval-us",
                 "500"});
    ASSERT_FALSE(writer.expect_line("ready").empty());
    std::this_thread::sleep_for(20ms);
    // AddressSanitizer would turn the SIGSEGV into a report and exit(1): let it die plainly.
    Peer scribbler({"scribble", "--kind", kind, "--name", name},
                   SpawnOptions{{"ASAN_OPTIONS=handle_segv=0"}, -1, {}});
    EXPECT_FALSE(scribbler.expect_line("scribble about-to-write").empty());
    const ExitStatus ss = scribbler.wait_exit(exit_timeout);
    EXPECT_EQ(ss.signal, SIGSEGV) << ss.describe() << join(scribbler.lines());

    EXPECT_TRUE(writer.running());
    Peer reader({"read", "--kind", kind, "--name", name, "--quiet", "--timeout-ms", "50"});
    ASSERT_FALSE(reader.expect_line("ready").empty());
    std::this_thread::sleep_for(100ms);
    writer.send("quit");
    const ExitStatus ws = writer.wait_exit(exit_timeout);
    EXPECT_TRUE(ws.exited && ws.code == 0) << ws.describe();
    ASSERT_TRUE(reader.wait_exit(exit_timeout).exited);
    const std::string end = reader.expect_line("end", 1s);
    EXPECT_GT(line_u64(end, "received"), 0u) << end;
    EXPECT_EQ(line_u64(end, "bad"), 0u) << end;
}

INSTANTIATE_TEST_SUITE_P(Security, ReadOnlyReader, ::testing::Values("cell", "broadcast"),
                         [](const auto& param_info) { return std::string(param_info.param); });

#if !defined(_WIN32)
// True when every byte of the region's channel area (control block and slots) is zero.
bool data_area_zero(const std::string& name) {
    const int fd = ::open(shm_path(name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    ::fstat(fd, &st);
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return false;
    const auto* h = static_cast<const shmrec::detail::RegionHeader*>(p);
    const auto* data = static_cast<const unsigned char*>(p) + h->data_offset;
    bool zero = true;
    for (std::uint64_t i = 0; i < h->data_size; ++i) zero &= data[i] == 0;
    ::munmap(p, static_cast<std::size_t>(st.st_size));
    return zero;
}
#endif

class ReusedName : public ::testing::TestWithParam<const char*> {
protected:
    Names names_;
};

// S8: a region written, its users all killed, then recreated under the same name with another
// record type: nothing of the old records is readable (the channel area is all zero and the
// new type's reader finds nothing), and the old type is refused.
TEST_P(ReusedName, RecreatedRegionShowsNoOldPayload) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: the region of killed users stays in /dev/shm and is reclaimed; a Windows "
                 "file-mapping object vanishes with its last handle, nothing stale is left";
#else
    const std::string kind = GetParam();
    const std::string name = names_.make("reuse");
    {
        Peer writer({"write", "--kind", kind, "--name", name, "--capacity", "8", "--interval-us",
                     "200"});
        ASSERT_FALSE(writer.expect_line("ready").empty());
        Peer reader({"read", "--kind", kind, "--name", name, "--quiet"});
        ASSERT_FALSE(reader.expect_line("ready").empty());
        std::this_thread::sleep_for(50ms);
        writer.signal(SIGKILL);
        reader.signal(SIGKILL);
    }
    ASSERT_FALSE(data_area_zero(name)) << "the first writer left nothing to leak";
    if (kind == "cell") {
        auto w = shmrec::Cell<Other>::writer(name);
        EXPECT_TRUE(data_area_zero(name));
        auto r = shmrec::Cell<Other>::reader(name);
        Other o;
        EXPECT_EQ(r.try_read(o), shmrec::ReadStatus::empty);
        EXPECT_EQ(error_of([&] { auto old = shmrec::Cell<Checked>::reader(name); }),
                  ErrorCode::type_mismatch);
    } else {
        auto w = shmrec::Ring<Other>::writer(name, 8);
        EXPECT_TRUE(data_area_zero(name));
        auto r = shmrec::Ring<Other>::reader(name);
        Other o;
        EXPECT_EQ(r.try_read(o), shmrec::ReadStatus::empty);
        EXPECT_EQ(error_of([&] { auto old = shmrec::Ring<Checked>::reader(name); }),
                  ErrorCode::type_mismatch);
    }
#endif
}

INSTANTIATE_TEST_SUITE_P(Security, ReusedName, ::testing::Values("cell", "ring"),
                         [](const auto& param_info) { return std::string(param_info.param); });

}  // namespace
}  // namespace reltest
