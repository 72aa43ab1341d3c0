// Region: names, creation and removal, permissions and trust (RELIABILITY S1, S5), roles, the
// read-only reader mapping, file-backed persistence and writer liveness.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#if !defined(_WIN32)
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "expect_error.hpp"
#include "printers.hpp"
#include "shm_file.hpp"
#include "shmrec/detail/channel_setup.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/fixed_string.hpp"
#include "shmrec/region.hpp"
#include "shmrec/ring.hpp"
#include "student.shmrec.hpp"
#include "test_names.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ErrorCode;
using shmrec::Location;
using shmrec_test::fails_with;
using shmrec_test::shm_path;
using ::testing::HasSubstr;
using StudentCell = shmrec::Cell<school::Student>;
// What a cell of students writes into its header (and an opener expects).
shmrec::RegionSpec cell_spec() {
    return shmrec::detail::channel_spec<shmrec::detail::CellDescriptor, school::Student>(2);
}

school::Student student(std::int64_t id, std::string_view name) {
    school::Student s{};
    s.id = id;
    shmrec::set_string(s.name, name);
    return s;
}

// A file (or a link) at `path`.
bool exists(const std::string& path) {
    std::error_code ec;
    return std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

using shmrec_test::shm_exists;

#if !defined(_WIN32)
mode_t mode_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

// Sets the umask for one scope.
class ScopedUmask {
  public:
    explicit ScopedUmask(mode_t m) : old_(::umask(m)) {}
    ScopedUmask(const ScopedUmask&) = delete;
    ScopedUmask& operator=(const ScopedUmask&) = delete;
    ~ScopedUmask() { ::umask(old_); }

  private:
    mode_t old_;
};
#endif

class RegionTest : public shmrec_test::RegionFixture {};

TEST_F(RegionTest, CreateOpenAndRemove) {
    const auto n = name();
    {
        auto writer = shmrec::Region::create(n, cell_spec());
        EXPECT_EQ(writer.name(), n);
        EXPECT_EQ(writer.role(), shmrec::Role::writer);
        EXPECT_EQ(writer.backing(), shmrec::Backing::memory);
        EXPECT_EQ(writer.state(), shmrec::RegionState::ready);
        EXPECT_EQ(writer.creator().pid, shmrec_test::this_pid());
        EXPECT_TRUE(shm_exists(n));

        auto reader = shmrec::Region::open(n, shmrec::Role::reader, cell_spec());
        EXPECT_EQ(reader.role(), shmrec::Role::reader);
        EXPECT_EQ(reader.geometry().data_size, 256u);
        EXPECT_EQ(reader.geometry().mapped_size, shmrec_test::file_size_of(shm_path(n)));
        EXPECT_EQ(reader.schema(), shmrec::RecordTraits<school::Student>::schema);
        EXPECT_EQ(reader.creator().pid, shmrec_test::this_pid());
        EXPECT_EQ(reader.health(), shmrec::RegionHealth::ok);
    }
#if defined(_WIN32)
    // The file-mapping object went with its last handle: there is no name left to remove.
    EXPECT_FALSE(shm_exists(n));
#else
    EXPECT_TRUE(shmrec::remove_region(n));
    EXPECT_FALSE(shm_exists(n));
#endif
    EXPECT_FALSE(shmrec::remove_region(n)) << "nothing left to remove";
}

TEST_F(RegionTest, CreateIsExclusiveWhileTheRegionIsInUse) {
    const auto n = name();
    auto first = StudentCell::writer(n);
    std::string what;
    EXPECT_TRUE(
        fails_with([&] { (void)StudentCell::writer(n); }, ErrorCode::already_exists, &what));
    EXPECT_THAT(what, HasSubstr(n));
    EXPECT_TRUE(fails_with([&] { (void)shmrec::Region::create(n, cell_spec()); },
                           ErrorCode::already_exists));
    // The first writer's region was not disturbed.
    ASSERT_EQ(first.try_write(student(1, "one")), shmrec::WriteStatus::ok);
    auto reader = StudentCell::reader(n);
    EXPECT_EQ(reader.try_read().value().id, 1);
}

TEST_F(RegionTest, OpeningAMissingRegionIsNotFound) {
    const auto n = name();
    std::string what;
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::reader(n); }, ErrorCode::not_found, &what));
    EXPECT_THAT(what, HasSubstr(n));
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::writer(n, shmrec::OpenMode::open_only); },
                           ErrorCode::not_found));
    EXPECT_FALSE(shm_exists(n)) << "opening must not create";
}

TEST_F(RegionTest, InvalidNamesAreRefusedBeforeAnyFileIsCreated) {
    // Each bad name carries a marker unique to this test, so any file it produced is found.
    const std::string marker = shmrec_test::unique_region_name(nullptr, "bad");
    const std::vector<std::pair<const char*, std::string>> cases = {
        {"empty", ""},
        {"parent directory", "../" + marker},
        {"parent directory deeper", "../../tmp/" + marker},
        {"slash inside", marker + "/b"},
        {"leading slash", "/" + marker},
        {"201 characters", marker + std::string(201 - marker.size(), 'x')},
        {"300 characters", marker + std::string(300 - marker.size(), 'x')},
        {"NUL inside", marker + std::string("\0x", 2)},
        {"non-ASCII", marker + "-\xc3\xa9"},
        {"leading dot", "." + marker},
        {"only dots", ".."},
        {"space", marker + " x"},
        {"newline", marker + "\nx"},
    };
    for (const auto& [why, bad] : cases) {
        SCOPED_TRACE(why);
        const Location where = Location::memory(bad);
        std::string what;
        EXPECT_TRUE(
            fails_with([&] { (void)StudentCell::writer(where); }, ErrorCode::invalid_name, &what));
        EXPECT_THAT(what, HasSubstr("invalid region name"));
        EXPECT_TRUE(fails_with([&] { (void)StudentCell::reader(where); }, ErrorCode::invalid_name));
        EXPECT_TRUE(
            fails_with([&] { (void)StudentCell::writer(where, shmrec::OpenMode::open_or_create); },
                       ErrorCode::invalid_name));
        EXPECT_TRUE(
            fails_with([&] { (void)shmrec::remove_region(where); }, ErrorCode::invalid_name));
        EXPECT_TRUE(fails_with([&] { shmrec::validate_location(where); }, ErrorCode::invalid_name));
    }
#if !defined(_WIN32)  // Windows: no files; an object is only made by a create, refused above
    for (const char* dir : {"/dev/shm", "/dev", "/tmp"}) {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
            EXPECT_THAT(e.path().filename().string(), ::testing::Not(HasSubstr(marker)))
                << "a file was created for an invalid name in " << dir;
        }
    }
#endif
    // The longest valid name is accepted.
    std::string longest = name();
    longest += std::string(200 - longest.size(), 'y');
    EXPECT_NO_THROW(shmrec::validate_location(Location::memory(longest)));
}

TEST_F(RegionTest, NewRegionHasMode0600WhateverTheUmask) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: file modes and the umask; a Windows region is guarded by its DACL";
#else
    const ScopedUmask permissive(0);
    const auto n = name();
    auto writer = StudentCell::writer(n);
    EXPECT_EQ(mode_of(shm_path(n)), 0600u);

    const shmrec_test::TempDir dir;
    const auto path = dir.file("cell.region");
    auto file_writer = StudentCell::writer(Location::file(path));
    EXPECT_EQ(mode_of(path), 0600u);
#endif
}

TEST_F(RegionTest, PermissionsOptionSharesWithTheGroupOnly) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: file modes and the umask; a Windows region is guarded by its DACL";
#else
    const ScopedUmask strict(077);  // fchmod, not the umask, decides
    shmrec::RegionOptions options;
    options.permissions = 0660;
    const auto n = name();
    auto writer = StudentCell::writer(n, shmrec::OpenMode::create_only, options);
    EXPECT_EQ(mode_of(shm_path(n)), 0660u);
#endif
}

TEST_F(RegionTest, ImpossiblePermissionsAreInvalidArgument) {
    shmrec::RegionOptions options;
    options.permissions = 04600;  // setuid bit
    const auto n = name();
    EXPECT_TRUE(
        fails_with([&] { (void)StudentCell::writer(n, shmrec::OpenMode::create_only, options); },
                   ErrorCode::invalid_argument));
    EXPECT_FALSE(shm_exists(n));
}

TEST_F(RegionTest, WorldWritableRegionIsUntrusted) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: chmod of the region's /dev/shm file; a Windows region is guarded by its "
                 "DACL";
#else
    // Same-uid name squatting: a file anyone may write, pre-created under our name.
    const auto n = name();
    {
        auto writer = StudentCell::writer(n);
        ASSERT_EQ(writer.try_write(student(7, "seven")), shmrec::WriteStatus::ok);
    }
    ASSERT_EQ(::chmod(shm_path(n).c_str(), 0666), 0);
    std::string what;
    EXPECT_TRUE(
        fails_with([&] { (void)StudentCell::reader(n); }, ErrorCode::untrusted_region, &what));
    EXPECT_THAT(what, HasSubstr("0666"));
    EXPECT_THAT(what, HasSubstr(n));
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::writer(n, shmrec::OpenMode::open_only); },
                           ErrorCode::untrusted_region));
#endif
}

TEST_F(RegionTest, PreCreatedWorldWritableFileIsUntrusted) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: a world-writable file pre-created in /dev/shm (file modes)";
#else
    const auto n = name();
    shmrec_test::create_file(shm_path(n), {}, 3 * 4096, 0666);
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::reader(n); }, ErrorCode::untrusted_region));
#endif
}

TEST_F(RegionTest, SymlinkAtAFileBackedPathIsUntrustedAndItsTargetUntouched) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: symlink squatting (O_NOFOLLOW)";
#else
    const shmrec_test::TempDir dir;
    const auto target = dir.file("precious.txt");
    const auto link = dir.file("cell.region");
    { std::ofstream(target) << "precious"; }
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);

    std::string what;
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::reader(Location::file(link)); },
                           ErrorCode::untrusted_region, &what));
    EXPECT_THAT(what, HasSubstr(link));
    EXPECT_TRUE(fails_with(
        [&] { (void)StudentCell::writer(Location::file(link), shmrec::OpenMode::open_only); },
        ErrorCode::untrusted_region));
    EXPECT_TRUE(fails_with(
        [&] { (void)StudentCell::writer(Location::file(link), shmrec::OpenMode::open_or_create); },
        ErrorCode::untrusted_region));
    // create_only refuses too (O_EXCL sees the link as an existing name).
    EXPECT_THROW((void)StudentCell::writer(Location::file(link)), shmrec::Error);

    std::ifstream in(target);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content, "precious");
    EXPECT_EQ(shmrec_test::file_size_of(target), 8u);
    struct stat st {};
    ASSERT_EQ(::lstat(link.c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link itself was not replaced";
#endif
}

TEST_F(RegionTest, SymlinkInDevShmIsUntrusted) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: symlink squatting in /dev/shm (O_NOFOLLOW)";
#else
    const shmrec_test::TempDir dir;
    const auto target = dir.file("precious.txt");
    { std::ofstream(target) << "precious"; }
    const auto n = name();
    ASSERT_EQ(::symlink(target.c_str(), shm_path(n).c_str()), 0);
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::reader(n); }, ErrorCode::untrusted_region));
    EXPECT_EQ(shmrec_test::file_size_of(target), 8u);
    ::unlink(shm_path(n).c_str());
#endif
}

TEST_F(RegionTest, FileBackedRegionKeepsItsRecordAcrossReopen) {
    const shmrec_test::TempDir dir;
    const Location where = Location::file(dir.file("cell.region"));
    {
        auto writer = StudentCell::writer(where);
        ASSERT_EQ(writer.try_write(student(1, "first")), shmrec::WriteStatus::ok);
        ASSERT_EQ(writer.try_write(student(2, "second")), shmrec::WriteStatus::ok);
        ASSERT_EQ(writer.try_write(student(3, "third")), shmrec::WriteStatus::ok);
        EXPECT_EQ(writer.written(), 3u);
    }  // closed
    {
        auto reader = StudentCell::reader(where);
        EXPECT_TRUE(reader.closed());
        EXPECT_FALSE(reader.writer_alive());
        school::Student s{};
        ASSERT_EQ(reader.try_read(s), shmrec::ReadStatus::ok);
        EXPECT_EQ(s.id, 3);
        EXPECT_EQ(shmrec::get_string(s.name), "third");
        EXPECT_EQ(reader.sequence(), 3u);
    }
    {
        // A new writer takes over and continues the publish count.
        auto writer = StudentCell::writer(where, shmrec::OpenMode::open_only);
        EXPECT_EQ(writer.written(), 3u);
        auto reader = StudentCell::reader(where);
        EXPECT_FALSE(reader.closed()) << "a new writer re-opens a closed region";
        ASSERT_EQ(writer.try_write(student(4, "fourth")), shmrec::WriteStatus::ok);
        EXPECT_EQ(writer.written(), 4u);
        school::Student s{};
        ASSERT_EQ(reader.try_read(s), shmrec::ReadStatus::ok);
        EXPECT_EQ(s.id, 4);
        EXPECT_EQ(reader.sequence(), 4u);
    }
    EXPECT_TRUE(shmrec::remove_region(where));
}

TEST_F(RegionTest, SecondWriterWhileTheFirstIsAliveIsWriterActive) {
    const auto n = name();
    std::optional<StudentCell::Writer> first(StudentCell::writer(n));
    shmrec_test::keep_alive(n);  // Windows: the object outlives the first writer
    ASSERT_EQ(first->try_write(student(1, "one")), shmrec::WriteStatus::ok);
    std::string what;
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::writer(n, shmrec::OpenMode::open_only); },
                           ErrorCode::writer_active, &what));
    EXPECT_THAT(what, HasSubstr(n));
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::writer(n, shmrec::OpenMode::open_or_create); },
                           ErrorCode::writer_active));
    // Once the first is gone the role is free, and the count continues.
    first.reset();
    auto second = StudentCell::writer(n, shmrec::OpenMode::open_only);
    EXPECT_EQ(second.written(), 1u);
}

TEST_F(RegionTest, ReaderMappingIsReadOnly) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: fork()s a child that writes through the reader's mapping; on Windows "
                 "Security/ReadOnlyReader does it with a second process";
#else
    const shmrec_test::TempDir dir;
    for (const Location& where : {Location::memory(name()), Location::file(dir.file("cell"))}) {
        SCOPED_TRACE(where.name);
        auto writer = StudentCell::writer(where);
        ASSERT_EQ(writer.try_write(student(1, "one")), shmrec::WriteStatus::ok);
        auto reader = StudentCell::reader(where);

        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            // Die by the signal itself, not by a sanitizer's SEGV report.
            struct sigaction dfl {};
            dfl.sa_handler = SIG_DFL;
            ::sigaction(SIGSEGV, &dfl, nullptr);
            ::sigaction(SIGBUS, &dfl, nullptr);
            auto* p = const_cast<volatile std::byte*>(shmrec::detail::RegionAccess::data(reader.region()));
            p[64 + 8] = std::byte{0x55};  // slot 0's payload
            ::_exit(0);                   // the write went through: the test fails
        }
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the child's write into a reader mapping succeeded";
        EXPECT_EQ(WTERMSIG(status), SIGSEGV);

        // The writer and the reader are unaffected.
        ASSERT_EQ(writer.try_write(student(2, "two")), shmrec::WriteStatus::ok);
        school::Student s{};
        ASSERT_EQ(reader.try_read(s), shmrec::ReadStatus::ok);
        EXPECT_EQ(s.id, 2);
        EXPECT_EQ(shmrec::get_string(s.name), "two");
    }
#endif
}

TEST_F(RegionTest, ReaderOfAFileBackedRegionWaitsOnItsBoard) {
    // Regression: a file-backed reader's board mapping (read-write) failed with EACCES when the
    // file was opened read-only for the reader.
    const shmrec_test::TempDir dir;
    const Location where = Location::file(dir.file("cell"));
    auto writer = StudentCell::writer(where);
    auto reader = StudentCell::reader(where);
    EXPECT_EQ(reader.region().backing(), shmrec::Backing::file);
    school::Student s{};
    EXPECT_EQ(reader.read(s, 10ms), shmrec::ReadStatus::timeout);
    ASSERT_EQ(writer.try_write(student(1, "one")), shmrec::WriteStatus::ok);
    EXPECT_EQ(reader.read(s, 1s), shmrec::ReadStatus::ok);
    EXPECT_EQ(s.id, 1);
}

TEST_F(RegionTest, WriterAliveUntilTheWriterHandleIsDestroyed) {
    const auto n = name();
    std::optional<StudentCell::Writer> writer(StudentCell::writer(n));
    auto reader = StudentCell::reader(n);
    EXPECT_TRUE(reader.writer_alive());
    EXPECT_TRUE(reader.region().writer_alive());
    EXPECT_FALSE(reader.closed());
    writer.reset();
    EXPECT_FALSE(reader.writer_alive());
    EXPECT_TRUE(reader.closed()) << "destroying the writer closes the cell";
    EXPECT_EQ(reader.region().state(), shmrec::RegionState::closed);
}

TEST_F(RegionTest, MovedFromWriterDoesNotCloseTheCell) {
    const auto n = name();
    auto writer = StudentCell::writer(n);
    auto reader = StudentCell::reader(n);
    {
        auto moved = std::move(writer);
        ASSERT_EQ(moved.try_write(student(5, "five")), shmrec::WriteStatus::ok);
        writer = std::move(moved);
    }  // `moved` (moved from) is destroyed here
    EXPECT_FALSE(reader.closed());
    EXPECT_TRUE(reader.writer_alive());
    EXPECT_EQ(reader.try_read().value().id, 5);
}

TEST_F(RegionTest, HealthTellsUnlinkedAndReplaced) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: removes the name of a region still open (shm_unlink); a Windows "
                 "file-mapping object keeps its name while any handle is open";
#else
    const auto n = name();
    auto writer = StudentCell::writer(n);
    EXPECT_EQ(writer.region().health(), shmrec::RegionHealth::ok);
    ASSERT_TRUE(shmrec::remove_region(n));
    EXPECT_EQ(writer.region().health(), shmrec::RegionHealth::unlinked);
    auto other = shmrec::Region::create(n, cell_spec());
    EXPECT_EQ(writer.region().health(), shmrec::RegionHealth::replaced);
    EXPECT_EQ(other.health(), shmrec::RegionHealth::ok);
#endif
}

// Issue 8: a shared-memory name given the POSIX way, with its leading '/', is refused with a
// message that says what to do.
TEST_F(RegionTest, LeadingSlashIsRefusedWithAHint) {
    std::string what;
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::writer("/Telemetry"); },
                           ErrorCode::invalid_name, &what));
    EXPECT_THAT(what, HasSubstr("drop the leading /"));
    EXPECT_THAT(what, HasSubstr("'Telemetry'"));
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::reader("/Telemetry"); },
                           ErrorCode::invalid_name, &what));
    EXPECT_THAT(what, HasSubstr("drop the leading /"));
    EXPECT_FALSE(shm_exists("Telemetry"));
}

// Issue 8: messages name a file-backed region by its path.
TEST_F(RegionTest, MessagesNameFileBackedRegionsByTheirPath) {
    const shmrec_test::TempDir dir;
    const std::string path = dir.file("students.shmrec");
    const auto where = Location::file(path);
    std::string what;
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::reader(where); }, ErrorCode::not_found, &what));
    EXPECT_THAT(what, HasSubstr("region file '" + path + "'"));
    EXPECT_TRUE(fails_with([&] { (void)shmrec::Ring<school::Student>::writer(where, 3); },
                           ErrorCode::invalid_argument, &what));
    EXPECT_THAT(what, HasSubstr("region file '" + path + "'"));
    {
        auto writer = StudentCell::writer(where);
        EXPECT_TRUE(fails_with([&] { (void)StudentCell::writer(where); },
                               ErrorCode::already_exists, &what));
        EXPECT_THAT(what, HasSubstr("region file '" + path + "'"));
        EXPECT_TRUE(fails_with([&] { (void)shmrec::Ring<school::Student>::reader(where); },
                               ErrorCode::wrong_kind, &what));
        EXPECT_THAT(what, HasSubstr("region file '" + path + "'"));
    }
    shmrec::remove_region(where);
}

// Issue 8: RegionOptions::wait_for_creator lets a reader started before its writer wait for
// the name to appear.
TEST_F(RegionTest, WaitForCreatorOpensARegionCreatedLater) {
    const auto n = name();
    shmrec::RegionOptions options;
    options.wait_for_creator = 5s;
    const auto t0 = std::chrono::steady_clock::now();
    auto opened = std::async(std::launch::async, [&] {
        auto reader = StudentCell::reader(n, options);
        // The region can be ready before the writer's first record: wait for it (try_read
        // here raced the write below, and lost under ThreadSanitizer).
        school::Student s{};
        const shmrec::ReadStatus status = reader.read(s, 5s);
        return status == shmrec::ReadStatus::ok ? s.id : -1;
    });
    std::this_thread::sleep_for(200ms);
    auto writer = StudentCell::writer(n);
    ASSERT_EQ(writer.try_write(student(7, "seven")), shmrec::WriteStatus::ok);
    EXPECT_EQ(opened.get(), 7);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
}

TEST_F(RegionTest, WaitForCreatorEndsInNotFoundAfterItsTime) {
    const auto n = name();
    std::string what;
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(fails_with([&] { (void)StudentCell::reader(n); }, ErrorCode::not_found, &what));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms) << "the default must fail at once";
    shmrec::RegionOptions options;
    options.wait_for_creator = 150ms;
    t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(
        fails_with([&] { (void)StudentCell::reader(n, options); }, ErrorCode::not_found, &what));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
    EXPECT_THAT(what, HasSubstr("waited 150 ms"));
    EXPECT_FALSE(shm_exists(n));
}

// Issue 8: RegionOptions::remove_on_close removes the name on the writer's clean close; the
// readers still attached see `closed` and keep their mapping.
TEST_F(RegionTest, RemoveOnCloseRemovesTheNameOnACleanClose) {
    const auto n = name();
    shmrec::RegionOptions options;
    options.remove_on_close = true;
    auto writer = StudentCell::writer(n, shmrec::OpenMode::create_only, options);
    ASSERT_EQ(writer.try_write(student(1, "one")), shmrec::WriteStatus::ok);
    auto reader = StudentCell::reader(n);
    ASSERT_TRUE(shm_exists(n));
#if !defined(_WIN32)  // a Windows file-mapping object keeps its name while any handle is open
    writer.close();
    EXPECT_FALSE(shm_exists(n));
    EXPECT_EQ(reader.region().state(), shmrec::RegionState::closed);
    EXPECT_EQ(reader.try_read().value().id, 1);

    // Without the option the name stays; a writer that took over with it removes it.
    {
        auto plain = StudentCell::writer(n);
        plain.close();
    }
    EXPECT_TRUE(shm_exists(n));
    {
        auto takeover = StudentCell::writer(n, shmrec::OpenMode::open_only, options);
        takeover.close();
    }
    EXPECT_FALSE(shm_exists(n));
#endif

    // File-backed too.
    const shmrec_test::TempDir dir;
    const auto file = Location::file(dir.file("gone.shmrec"));
    {
        auto w = StudentCell::writer(file, shmrec::OpenMode::create_only, options);
        ASSERT_TRUE(exists(file.name));
    }  // the destructor closes cleanly
    EXPECT_FALSE(exists(file.name));
}

TEST_F(RegionTest, RemoveOnCloseNeverRemovesAnotherRegionAtTheName) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: removes the name of a region still open (shm_unlink); a Windows "
                 "file-mapping object keeps its name while any handle is open";
#else
    const auto n = name();
    shmrec::RegionOptions options;
    options.remove_on_close = true;
    auto writer = StudentCell::writer(n, shmrec::OpenMode::create_only, options);
    ASSERT_TRUE(shmrec::remove_region(n));
    auto other = shmrec::Region::create(n, cell_spec());
    writer.close();
    EXPECT_TRUE(shm_exists(n)) << "remove_on_close removed a region that was not its own";
    EXPECT_EQ(other.health(), shmrec::RegionHealth::ok);
#endif
}

}  // namespace

namespace {

// remove_idle_region: the removal `shmrec rm` does without --force.
class IdleRemoval : public shmrec_test::RegionFixture {};

TEST_F(IdleRemoval, RefusesWhileAWriterLivesAndRemovesOnceItIsGone) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: removes the name of a region a reader still has open (shm_unlink); a "
                 "Windows file-mapping object keeps its name while any handle is open";
#else
    const std::string region = name();
    {
        auto writer = StudentCell::writer(region);
        EXPECT_EQ(shmrec::remove_idle_region(region), shmrec::Removal::writer_alive);
        EXPECT_TRUE(shm_exists(region)) << "nothing removed";
    }
    // The writer closed (its lock went with it); a reader still attached keeps its mapping.
    auto reader = StudentCell::reader(region);
    EXPECT_EQ(shmrec::remove_idle_region(region), shmrec::Removal::removed);
    EXPECT_FALSE(shm_exists(region));
    EXPECT_EQ(shmrec::remove_idle_region(region), shmrec::Removal::not_found);
#endif
}

TEST_F(IdleRemoval, RefusesWhatIsNotAValidRegionOfThisFormat) {
    const std::string junk = name("junk");
    std::vector<std::byte> bytes(8192, std::byte{0x5a});
    shmrec_test::create_file(shm_path(junk), bytes, bytes.size());
    EXPECT_EQ(shmrec::remove_idle_region(junk), shmrec::Removal::not_a_region);
    const std::string zeros = name("zeros");
    shmrec_test::create_file(shm_path(zeros), {}, 8192);
    EXPECT_EQ(shmrec::remove_idle_region(zeros), shmrec::Removal::not_a_region);
    const std::string other = name("other");
    {
        auto writer = StudentCell::writer(other);
        shmrec_test::keep_alive(other);  // Windows: the object outlives its writer
    }
    shmrec_test::poke_header(shm_path(other),
                             [](shmrec::detail::RegionHeader& h, std::byte*, std::uint64_t) {
                                 h.format_major = 99;
                             });
    EXPECT_EQ(shmrec::remove_idle_region(other), shmrec::Removal::other_format);
    for (const auto& n : {junk, zeros, other}) {
        EXPECT_TRUE(shm_exists(n)) << n << " was removed";
    }
}

}  // namespace
