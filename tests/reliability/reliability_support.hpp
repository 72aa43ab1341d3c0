// Helpers shared by the reliability tests (tests/reliability/ only) and the fault peer:
// self-checking records, unique region names removed by the fixture, /dev/shm inspection, and
// the children the tests start (tests/support/child_process.hpp) without an inherited fault
// plan.
//
// On Windows there is no /dev/shm: shm_path() is the region's name (the name of its file-mapping
// object, as in tests/support/shm_file.hpp) and entries_with_prefix(), shm_entries_named() and
// stat_path() are Linux-only.
//
// The peer (fault_peer.cpp) speaks one "key=value ..." line per event; line_value() picks a
// field out of such a line. See fault_peer.cpp for the commands and the lines they print.
#pragma once

#include <sys/stat.h>
#if !defined(_WIN32)
#include <dirent.h>
#include <unistd.h>
#endif

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "checked_record.hpp"
#include "child_process.hpp"
#include "kept_objects.hpp"
#include "test_records.shmrec.hpp"
#include "timing.hpp"

namespace reltest {

using namespace std::chrono_literals;
using shmrec_test::Clock;
using shmrec_test::ms_since;

// ---- records -------------------------------------------------------------------------------

// Self-checking records from tests/support: every field derives from seq and the checksum
// covers them all, so half of one record and half of another (a torn copy) or a zero-filled
// slot never passes checksum_ok.
using shmrec_test::intact;
using shmrec_test::make_checked;

// ---- names and /dev/shm --------------------------------------------------------------------

inline std::string unique_name(std::string_view tag) {
    static std::atomic<unsigned> counter{0};
    return "shmrec-rel-" + std::string(tag) + "-" + std::to_string(shmrec_test::this_pid()) + "-" +
           std::to_string(counter.fetch_add(1));
}

#if defined(_WIN32)
inline std::string shm_path(const std::string& name) { return name; }

// 1 while a file-mapping object of that name exists (the name is taken), else 0.
inline std::size_t shm_entries_named(const std::string& name) {
    const HANDLE h = ::OpenFileMappingW(FILE_MAP_READ, FALSE, shmrec_test::object_name(name).c_str());
    if (h == nullptr) return ::GetLastError() == ERROR_ACCESS_DENIED ? 1 : 0;
    ::CloseHandle(h);
    return 1;
}
#else
inline std::string shm_path(const std::string& name) { return "/dev/shm/" + name; }

// Entries of `dir` whose name starts with `prefix`.
inline std::vector<std::string> entries_with_prefix(const std::string& dir,
                                                    const std::string& prefix) {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* e = ::readdir(d)) {
            const std::string n = e->d_name;
            if (n.rfind(prefix, 0) == 0) out.push_back(n);
        }
        ::closedir(d);
    }
    return out;
}

inline std::size_t shm_entries_named(const std::string& name) {
    std::size_t n = 0;
    for (const auto& e : entries_with_prefix("/dev/shm", name)) n += (e == name);
    return n;
}

inline std::optional<struct stat> stat_path(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
    return st;
}
#endif

// Picks `key=value` out of a peer line ("" when absent). Values end at a space, except the
// last key of a line, `what=`, which runs to the end.
inline std::string line_value(const std::string& line, std::string_view key) {
    const std::string k = std::string(key) + "=";
    std::size_t pos = 0;
    while ((pos = line.find(k, pos)) != std::string::npos) {
        if (pos == 0 || line[pos - 1] == ' ') break;
        pos += k.size();
    }
    if (pos == std::string::npos) return {};
    pos += k.size();
    if (key == "what") return line.substr(pos);
    const auto end = line.find(' ', pos);
    return line.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

inline std::uint64_t line_u64(const std::string& line, std::string_view key) {
    const std::string v = line_value(line, key);
    if (v.empty()) throw std::runtime_error("no '" + std::string(key) + "' in line: " + line);
    return std::stoull(v);
}

inline bool starts_with(const std::string& s, std::string_view prefix) {
    return s.rfind(prefix, 0) == 0;
}

// ---- child processes -----------------------------------------------------------------------

using shmrec_test::ExitStatus;
using shmrec_test::SpawnOptions;

// How long a test waits for a child to exit unless it says otherwise.
constexpr std::chrono::milliseconds exit_timeout = 15s;

// A child of a reliability test (see ChildProcess): it never inherits a fault plan
// (SHMREC_FAULT) from this process, only one given in `options.env`.
class Child : public shmrec_test::ChildProcess {
public:
    Child(const std::string& program, const std::vector<std::string>& args,
          SpawnOptions options = {})
        : ChildProcess(program, args, without_inherited_fault(std::move(options))) {}

private:
    static SpawnOptions without_inherited_fault(SpawnOptions options) {
        options.unset_env.push_back("SHMREC_FAULT");
        return options;
    }
};

#ifdef SHMREC_FAULT_PEER
// The fault peer (fault_peer.cpp), linked against the fault-injection variant of the runtime.
class Peer : public Child {
public:
    explicit Peer(const std::vector<std::string>& args, const SpawnOptions& options = {})
        : Child(SHMREC_FAULT_PEER, args, options) {}
    // With SHMREC_FAULT="<point>:<n>:<action>" in its environment.
    Peer(const std::vector<std::string>& args, const std::string& fault)
        : Child(SHMREC_FAULT_PEER, args, SpawnOptions{{"SHMREC_FAULT=" + fault}, -1, {}}) {}
};
#endif

}  // namespace reltest
