// Helpers shared by the reliability tests (tests/reliability/ only) and the fault peer:
// self-checking records, unique region names removed by the fixture, /dev/shm inspection, and
// a child process (posix_spawn) with its stdin and stdout on pipes.
//
// The peer (fault_peer.cpp) speaks one "key=value ..." line per event; line_value() picks a
// field out of such a line. See fault_peer.cpp for the commands and the lines they print.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "checked_record.hpp"
#include "test_records.shmrec.hpp"

extern char** environ;

namespace reltest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// ---- records -------------------------------------------------------------------------------

// Self-checking records from tests/support: every field derives from seq and the checksum
// covers them all, so half of one record and half of another (a torn copy) or a zero-filled
// slot never passes checksum_ok.
using shmrec_test::make_checked;
inline bool record_intact(const shmrec_test::Checked& r) {
    return shmrec_test::checksum_ok(r) && shmrec_test::matches_seq(r);
}

// ---- names and /dev/shm --------------------------------------------------------------------

inline std::string unique_name(std::string_view tag) {
    static std::atomic<unsigned> counter{0};
    return "shmrec-rel-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter.fetch_add(1));
}

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

// How a child ended.
struct ExitStatus {
    bool exited = false;  // normal exit
    int code = -1;        // exit code when exited
    int signal = 0;       // terminating signal otherwise
    bool timed_out = false;

    std::string describe() const {
        if (timed_out) return "still running (timeout)";
        if (exited) return "exit code " + std::to_string(code);
        return std::string("killed by signal ") + std::to_string(signal) + " (" +
               ::strsignal(signal) + ")";
    }
};

struct SpawnOptions {
    std::vector<std::string> env;  // "KEY=value" added to (or replacing in) the environment
    int extra_fd = -1;             // dup'ed to fd 3 in the child when >= 0
};

// A child with stdin and stdout on pipes; stderr is inherited so its diagnostics reach the
// test log. The destructor SIGKILLs (and SIGCONTs) and reaps it if it still runs.
class Child {
public:
    Child(const std::string& program, const std::vector<std::string>& args,
          const SpawnOptions& options = {}) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe2 failed");
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        if (options.extra_fd >= 0) posix_spawn_file_actions_adddup2(&fa, options.extra_fd, 3);

        std::vector<std::string> argv_s{program};
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);

        std::vector<std::string> env_s;
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string entry = *e;
            const std::string key = entry.substr(0, entry.find('='));
            bool replaced = key == "SHMREC_FAULT";  // a fault plan is never inherited
            for (const auto& add : options.env) replaced |= add.substr(0, add.find('=')) == key;
            if (!replaced) env_s.push_back(entry);
        }
        env_s.insert(env_s.end(), options.env.begin(), options.env.end());
        std::vector<char*> envp;
        for (auto& e : env_s) envp.push_back(e.data());
        envp.push_back(nullptr);

        const int rc = ::posix_spawnp(&pid_, program.c_str(), &fa, nullptr, argv.data(),
                                      envp.data());
        posix_spawn_file_actions_destroy(&fa);
        ::close(in[0]);
        ::close(out[1]);
        to_child_ = in[1];
        from_child_ = out[0];
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error("posix_spawn " + program + ": " + std::strerror(rc));
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
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

    // Next line of the child's stdout; "" on EOF or timeout (eof() tells which).
    std::string read_line(std::chrono::milliseconds timeout = 10s) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            if (const auto pos = buffer_.find('\n'); pos != std::string::npos) {
                std::string line = buffer_.substr(0, pos);
                buffer_.erase(0, pos + 1);
                lines_.push_back(line);
                return line;
            }
            if (eof_) return {};
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) return {};
            pollfd p{from_child_, POLLIN, 0};
            const int n = ::poll(&p, 1, static_cast<int>(left.count()));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return {};
            char chunk[4096];
            const ssize_t got = ::read(from_child_, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                eof_ = true;
                continue;
            }
            buffer_.append(chunk, static_cast<std::size_t>(got));
        }
    }

    // Reads lines until one starts with `prefix`; "" if none came within `timeout`.
    std::string expect_line(std::string_view prefix, std::chrono::milliseconds timeout = 10s) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) return {};
            std::string line = read_line(left);
            if (line.empty() && (eof_ || Clock::now() >= deadline)) return {};
            if (starts_with(line, prefix)) return line;
        }
    }

    // Everything until EOF (or the timeout).
    std::vector<std::string> read_all(std::chrono::milliseconds timeout = 15s) {
        const auto deadline = Clock::now() + timeout;
        while (!eof_ && Clock::now() < deadline) {
            read_line(std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                             Clock::now()));
        }
        return lines_;
    }

    // Every line read so far, in order.
    const std::vector<std::string>& lines() const { return lines_; }
    bool eof() const { return eof_; }

    void send(const std::string& line) {
        const std::string s = line + "\n";
        if (::write(to_child_, s.data(), s.size()) != static_cast<ssize_t>(s.size())) {
            throw std::runtime_error("write to child failed");
        }
    }
    void close_stdin() {
        if (to_child_ >= 0) ::close(to_child_);
        to_child_ = -1;
    }

    void signal(int sig) const {
        if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
    }

    // Waits until the child stopped (SIGSTOP); false on timeout or if it ended instead.
    bool wait_stopped(std::chrono::milliseconds timeout = 10s) {
        const auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            int st = 0;
            const pid_t r = ::waitpid(pid_, &st, WNOHANG | WUNTRACED);
            if (r == pid_) {
                if (WIFSTOPPED(st)) return true;
                record(st);
                return false;
            }
            std::this_thread::sleep_for(1ms);
        }
        return false;
    }

    ExitStatus wait(std::chrono::milliseconds timeout = 15s) {
        if (reaped_) return status_;
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            int st = 0;
            const pid_t r = ::waitpid(pid_, &st, WNOHANG);
            if (r == pid_) {
                record(st);
                return status_;
            }
            if (Clock::now() >= deadline) {
                ExitStatus s;
                s.timed_out = true;
                return s;
            }
            std::this_thread::sleep_for(1ms);
        }
    }

    bool running() {
        if (reaped_) return false;
        int st = 0;
        const pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            record(st);
            return false;
        }
        return true;
    }

private:
    void record(int st) {
        reaped_ = true;
        status_.exited = WIFEXITED(st);
        status_.code = status_.exited ? WEXITSTATUS(st) : -1;
        status_.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    }

    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    bool reaped_ = false;
    bool eof_ = false;
    ExitStatus status_;
    std::string buffer_;
    std::vector<std::string> lines_;
};

#ifdef SHMREC_FAULT_PEER
// The fault peer (fault_peer.cpp), linked against the fault-injection variant of the runtime.
class Peer : public Child {
public:
    explicit Peer(const std::vector<std::string>& args, const SpawnOptions& options = {})
        : Child(SHMREC_FAULT_PEER, args, options) {}
    // With SHMREC_FAULT="<point>:<n>:<action>" in its environment.
    Peer(const std::vector<std::string>& args, const std::string& fault)
        : Child(SHMREC_FAULT_PEER, args, SpawnOptions{{"SHMREC_FAULT=" + fault}, -1}) {}
};
#endif

}  // namespace reltest
