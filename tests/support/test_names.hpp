// Unique region names per test, the fixture that removes them, and a check that a test binary
// leaves nothing behind in /dev/shm. Shared by tests/unit and tests/integration.
//
// Every name starts with region_prefix() ("shmrec-test-<pid>-"): regions made by a test and by
// the peers it spawns carry the test process's pid, so the leftover check in
// ShmLeftoverCheck::TearDown finds exactly this process's regions.
//
// On Windows a memory region is a named file-mapping object that vanishes with its last handle:
// there is nothing to leave behind, so ShmLeftoverCheck checks nothing there.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <tlhelp32.h>
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "child_process.hpp"  // this_pid()
#include "kept_objects.hpp"
#include "shmrec/error.hpp"
#include "shmrec/region.hpp"

namespace shmrec_test {

inline std::string region_prefix() {
    return "shmrec-test-" + std::to_string(this_pid()) + "-";
}

// "<prefix><Suite>.<Test>-<n>[-<tag>]": letters, digits, '_', '-', '.' only (parameterised test
// names contain '/'), at most 200 characters (the runtime's limit).
inline std::string unique_region_name(const ::testing::TestInfo* info = nullptr,
                                      std::string_view tag = {}) {
    static std::atomic<unsigned> counter{0};
    if (info == nullptr) info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string test = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name()
                                       : std::string("no-test");
    for (char& c : test) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) c = '_';
    }
    std::string suffix = "-" + std::to_string(counter.fetch_add(1));
    if (!tag.empty()) suffix += "-" + std::string(tag);
    std::string name = region_prefix();
    const std::size_t room = 200 - name.size() - suffix.size();
    name += test.substr(0, room);
    name += suffix;
    return name;
}

// A private directory for file-backed regions, removed with everything in it.
class TempDir {
  public:
    TempDir() {
#if defined(_WIN32)
        // No mkdtemp: a fresh name per try, created exclusively (create_directory is false
        // when it exists already).
        static std::atomic<unsigned> counter{0};
        const auto base = std::filesystem::temp_directory_path();
        for (;;) {
            const auto candidate =
                base / ("shmrec-test-" + std::to_string(this_pid()) + "-" +
                        std::to_string(counter.fetch_add(1)) + "-" +
                        std::to_string(::GetTickCount64() % 100000));
            if (std::filesystem::create_directory(candidate)) {
                path_ = candidate;
                return;
            }
        }
#else
        std::string templ = (std::filesystem::temp_directory_path() /
                             ("shmrec-test-" + std::to_string(::getpid()) + "-XXXXXX"))
                                .string();
        if (::mkdtemp(templ.data()) == nullptr)
            throw std::system_error(errno, std::generic_category(), "mkdtemp");
        path_ = templ;
#endif
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::string file(std::string_view leaf) const { return (path_ / leaf).string(); }

  private:
    std::filesystem::path path_;
};

// Base fixture: name() hands out unique region names and TearDown removes them, whatever the
// test did (including regions left by a killed peer).
class RegionFixture : public ::testing::Test {
  protected:
    std::string name(std::string_view tag = {}) {
        names_.push_back(unique_region_name(nullptr, tag));
        return names_.back();
    }

    void TearDown() override {
        release_kept_objects();
        for (const auto& n : names_) {
            try {
                shmrec::remove_region(shmrec::Location::memory(n));
            } catch (const shmrec::Error&) {
                // a name the test made invalid on purpose
            }
        }
    }

  private:
    std::vector<std::string> names_;
};

// Fails the run when a region of this process is still in /dev/shm after every test, and
// removes it so one failure does not leak into the next run. Nothing to check on Windows: a
// memory region's file-mapping object vanishes with its last handle, when this process ends.
class ShmLeftoverCheck : public ::testing::Environment {
  public:
#if defined(_WIN32)
    void TearDown() override {}
#else
    void TearDown() override {
        const std::string prefix = region_prefix();
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
            const std::string leaf = entry.path().filename().string();
            if (leaf.rfind(prefix, 0) != 0) continue;
            ADD_FAILURE() << "leftover shared memory /dev/shm/" << leaf
                          << " (a test did not remove its region)";
            std::filesystem::remove(entry.path(), ec);
        }
    }
#endif
};

}  // namespace shmrec_test

namespace shmrec_test {

// Fails the run when this test binary left a child process behind, running or unreaped. On
// Windows there is no reaping: it fails when a process this one started is still running.
class ChildrenReapedCheck : public ::testing::Environment {
  public:
#if defined(_WIN32)
    void TearDown() override {
        const HANDLE snapshot = ::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
        if (snapshot == INVALID_HANDLE_VALUE) return;
        FILETIME mine{}, unused{};
        ::GetProcessTimes(::GetCurrentProcess(), &mine, &unused, &unused, &unused);
        PROCESSENTRY32W entry{};
        entry.dwSize = sizeof entry;
        for (BOOL more = ::Process32FirstW(snapshot, &entry); more;
             more = ::Process32NextW(snapshot, &entry)) {
            if (entry.th32ParentProcessID != ::GetCurrentProcessId()) continue;
            if (std::wstring_view(entry.szExeFile) == L"conhost.exe") continue;
            const HANDLE p = ::OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION,
                                           FALSE, entry.th32ProcessID);
            if (p == nullptr) continue;
            FILETIME created{};
            // A process started before this one only has a reused pid of ours as its parent.
            const bool ours = ::GetProcessTimes(p, &created, &unused, &unused, &unused) &&
                              ::CompareFileTime(&created, &mine) >= 0;
            if (ours && ::WaitForSingleObject(p, 0) == WAIT_TIMEOUT) {
                ADD_FAILURE() << "a child process is still running (pid " << entry.th32ProcessID
                              << ")";
            }
            ::CloseHandle(p);
        }
        ::CloseHandle(snapshot);
    }
#else
    void TearDown() override {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid == 0) ADD_FAILURE() << "a child process is still running";
        if (pid > 0) ADD_FAILURE() << "child process " << pid << " was never reaped";
    }
#endif
};

}  // namespace shmrec_test
