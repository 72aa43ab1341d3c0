// Driver-side helpers of the reliability tests: region names removed by the fixture, and the
// parsing of a peer reader's output into records and statuses.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#if !defined(_WIN32)
#include <pthread.h>
#include <unistd.h>
#endif

#include <cstdio>
#include <filesystem>

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "reliability_support.hpp"
#include "shmrec/region.hpp"

namespace reltest {

// Owns the region names (and file paths) a test creates and removes them whatever happens.
class Names {
public:
    Names() = default;
    Names(const Names&) = delete;
    Names& operator=(const Names&) = delete;
    ~Names() { remove_all(); }

    std::string make(std::string_view tag) {
        names_.push_back(unique_name(tag));
        return names_.back();
    }
    std::string make_file(std::string_view tag) {
#if defined(_WIN32)
        files_.push_back((std::filesystem::temp_directory_path() / unique_name(tag)).string());
#else
        files_.push_back("/tmp/" + unique_name(tag));
#endif
        return files_.back();
    }
    // Windows: a memory region's object goes with its last handle (kept ones are let go).
    void remove_all() {
#if defined(_WIN32)
        shmrec_test::release_kept_objects();
        for (const auto& f : files_) std::remove(f.c_str());
#else
        for (const auto& n : names_) ::unlink(shm_path(n).c_str());
        for (const auto& f : files_) ::unlink(f.c_str());
#endif
    }

private:
    std::vector<std::string> names_;
    std::vector<std::string> files_;
};

// What a peer reader printed: its records in order and the statuses between them.
struct ReaderLog {
    struct Event {
        bool record;
        std::uint64_t seq;  // record
        bool ok;            // record: checksum valid
        std::string status; // status line ("writer_gone", "closed", ...)
    };
    std::vector<Event> events;
    std::string end;  // the "end ..." summary line

    explicit ReaderLog(const std::vector<std::string>& lines) {
        for (const auto& l : lines) {
            if (starts_with(l, "r ")) {
                events.push_back({true, line_u64(l, "seq"), line_value(l, "ok") == "1", {}});
            } else if (starts_with(l, "s ")) {
                events.push_back({false, 0, true, l.substr(2)});
            } else if (starts_with(l, "end ")) {
                end = l;
            }
        }
    }

    std::vector<std::uint64_t> seqs() const {
        std::vector<std::uint64_t> out;
        for (const auto& e : events) {
            if (e.record) out.push_back(e.seq);
        }
        return out;
    }
    std::size_t bad() const {
        std::size_t n = 0;
        for (const auto& e : events) n += e.record && !e.ok;
        return n;
    }
    bool has_status(const std::string& s) const {
        for (const auto& e : events) {
            if (!e.record && e.status == s) return true;
        }
        return false;
    }
    // Records seen before the first occurrence of status `s` (all records if it never came).
    std::vector<std::uint64_t> seqs_before(const std::string& s) const {
        std::vector<std::uint64_t> out;
        for (const auto& e : events) {
            if (!e.record && e.status == s) break;
            if (e.record) out.push_back(e.seq);
        }
        return out;
    }
};

// Sends `line` to a peer that may have exited on its own meanwhile: the closed pipe is
// ignored instead of killing the test with SIGPIPE (blocked for the call, and a pending one
// consumed before it is unblocked).
inline void send_if_alive(shmrec_test::ChildProcess& peer, const std::string& line) {
#if defined(_WIN32)
    // No SIGPIPE: writing to a peer that is gone just fails.
    try {
        peer.send(line);
    } catch (const std::system_error&) {
    }
#else
    sigset_t pipe_only, old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    try {
        peer.send(line);
    } catch (const std::system_error&) {
        // EPIPE: the peer is gone, which is what the caller allowed for.
    }
    const timespec no_wait{0, 0};
    while (::sigtimedwait(&pipe_only, nullptr, &no_wait) == SIGPIPE) {
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
#endif
}

inline std::vector<std::uint64_t> iota_seqs(std::uint64_t from, std::uint64_t to_exclusive) {
    std::vector<std::uint64_t> v;
    for (std::uint64_t i = from; i < to_exclusive; ++i) v.push_back(i);
    return v;
}

inline std::string join(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += "    " + l + "\n";
    return s;
}

}  // namespace reltest
