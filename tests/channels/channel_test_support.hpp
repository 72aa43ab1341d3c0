// Helpers of the ring and broadcast channel tests (tests/channels/ only): a tally of a checked
// record stream, and spawning the peer program. Region names, the fixture that removes them
// and the self-checking records come from tests/support (test_names.hpp, checked_record.hpp).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "shmrec/error.hpp"
#include "shmrec/region.hpp"
#include "checked_record.hpp"
#include "test_records.shmrec.hpp"
#include "test_names.hpp"

namespace chantest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// ---- records -------------------------------------------------------------------------------

using shmrec_test::checksum_ok;
using shmrec_test::make_checked;

// Intact and exactly the record make_checked(r.seq) produces (no torn or stale bytes).
inline bool intact(const shmrec_test::Checked& r) {
    return shmrec_test::checksum_ok(r) && shmrec_test::matches_seq(r);
}

// Tallies what a reader of a lossless stream saw: exact in-order delivery means
// bad == 0, out_of_order == 0 and count == expected.
struct StreamCheck {
    std::uint64_t count = 0;
    std::uint64_t next = 0;          // seq expected next
    std::uint64_t bad = 0;           // checksum failures (torn or garbage records)
    std::uint64_t out_of_order = 0;  // seq != next (lost, duplicated or reordered)
    std::uint64_t first_bad_seq = UINT64_MAX;

    explicit StreamCheck(std::uint64_t first = 0) : next(first) {}

    void see(const shmrec_test::Checked& r) {
        if (!intact(r)) {
            if (bad++ == 0) first_bad_seq = r.seq;
        } else if (r.seq != next) {
            if (out_of_order++ == 0) first_bad_seq = r.seq;
        }
        next = r.seq + 1;
        ++count;
    }
};

// ---- peer processes ------------------------------------------------------------------------

#ifdef SHMREC_CHANNEL_PEER

// A child running shmrec_channel_peer, with its stdin and stdout on pipes. The peer speaks
// "key=value ..." lines; the destructor kills (SIGKILL) and reaps it if still running.
class Peer {
public:
    explicit Peer(const std::vector<std::string>& args) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe2 failed");
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        std::vector<std::string> argv_s;
        argv_s.push_back(SHMREC_CHANNEL_PEER);
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int rc = ::posix_spawn(&pid_, SHMREC_CHANNEL_PEER, &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        ::close(in[0]);
        ::close(out[1]);
        to_child_ = in[1];
        from_child_ = out[0];
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error(std::string("posix_spawn failed: ") + std::strerror(rc));
        }
    }
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;
    ~Peer() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            ::kill(pid_, SIGCONT);
            int st;
            ::waitpid(pid_, &st, 0);
        }
        if (to_child_ >= 0) ::close(to_child_);
        if (from_child_ >= 0) ::close(from_child_);
    }

    pid_t pid() const { return pid_; }

    // Next line from the child's stdout; empty string on EOF or timeout.
    std::string read_line(std::chrono::milliseconds timeout = 20s) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            if (auto pos = buffer_.find('\n'); pos != std::string::npos) {
                std::string line = buffer_.substr(0, pos);
                buffer_.erase(0, pos + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - Clock::now());
            if (left.count() <= 0) return {};
            pollfd p{from_child_, POLLIN, 0};
            const int n = ::poll(&p, 1, static_cast<int>(left.count()));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return {};
            char chunk[4096];
            const ssize_t got = ::read(from_child_, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return {};
            buffer_.append(chunk, static_cast<std::size_t>(got));
        }
    }

    // Reads lines until one starts with `word`; returns its key=value pairs (empty on EOF).
    std::map<std::string, std::string> expect(const std::string& word,
                                              std::chrono::milliseconds timeout = 20s) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - Clock::now());
            if (left.count() <= 0) return {};
            const std::string line = read_line(left);
            if (line.empty()) return {};
            std::istringstream in(line);
            std::string first;
            in >> first;
            if (first != word) continue;
            std::map<std::string, std::string> kv;
            kv[""] = line;
            std::string tok;
            while (in >> tok) {
                if (auto eq = tok.find('='); eq != std::string::npos) {
                    kv[tok.substr(0, eq)] = tok.substr(eq + 1);
                }
            }
            return kv;
        }
    }

    void send(const std::string& line) {
        const std::string s = line + "\n";
        [[maybe_unused]] const ssize_t n = ::write(to_child_, s.data(), s.size());
    }

    void signal(int sig) { ::kill(pid_, sig); }

    // Waits for the child to exit; returns its wait status (or -1 on timeout).
    int wait(std::chrono::milliseconds timeout = 60s) {
        if (reaped_) return status_;
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            int st = 0;
            const pid_t r = ::waitpid(pid_, &st, WNOHANG);
            if (r == pid_) {
                reaped_ = true;
                status_ = st;
                return st;
            }
            if (Clock::now() >= deadline) return -1;
            std::this_thread::sleep_for(1ms);
        }
    }

private:
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    std::string buffer_;
};

#endif  // SHMREC_CHANNEL_PEER

inline std::uint64_t num(const std::map<std::string, std::string>& kv, const std::string& key) {
    auto it = kv.find(key);
    if (it == kv.end()) return UINT64_MAX;
    return std::stoull(it->second);
}

inline bool exited_ok(int status) { return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

// Retries `open` while the region does not exist yet (a peer that creates it is starting).
template <class Open>
auto open_when_created(Open&& open, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        try {
            return open();
        } catch (const shmrec::Error& e) {
            if (e.code() != shmrec::ErrorCode::not_found || Clock::now() >= deadline) throw;
        }
        std::this_thread::sleep_for(1ms);
    }
}

}  // namespace chantest
