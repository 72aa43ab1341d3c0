// The POSIX implementation of ChildProcess (child_process.hpp): posix_spawn, pipes, kill(2) and
// waitpid(2). Include child_process.hpp, not this file.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

namespace shmrec_test {

// For peer programs and test binaries: on Windows, a crash ends the process at once with the
// exception code; a POSIX process dies by its signal anyway.
inline void die_plainly_on_crash() {}

// In a child started with SpawnOptions::extra_fd: the descriptor it was given.
inline int extra_fd_in_child() { return 3; }

class ChildProcess {
  public:
    using Clock = std::chrono::steady_clock;

    // `program` is looked up in PATH when it has no '/' (posix_spawnp); argv[0] is `program`.
    ChildProcess(const std::string& program, const std::vector<std::string>& args,
                 const SpawnOptions& options = {}) {
        int to_child[2], from_child[2];
        // O_CLOEXEC: our ends must not leak into other children (a leaked write end would
        // keep a peer's stdin from ever reaching end of file).
        if (::pipe2(to_child, O_CLOEXEC) != 0) throw_errno("pipe2");
        if (::pipe2(from_child, O_CLOEXEC) != 0) {
            const int e = errno;
            ::close(to_child[0]);
            ::close(to_child[1]);
            throw std::system_error(e, std::generic_category(), "pipe2");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
        if (options.extra_fd >= 0) posix_spawn_file_actions_adddup2(&actions, options.extra_fd, 3);

        std::vector<std::string> argv_s{program};
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);

        std::vector<std::string> env_s = environment(options);
        std::vector<char*> envp;
        for (auto& e : env_s) envp.push_back(e.data());
        envp.push_back(nullptr);

        const int rc =
            ::posix_spawnp(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        ::close(to_child[0]);
        ::close(from_child[1]);
        to_child_ = to_child[1];
        from_child_ = from_child[0];
        if (rc != 0) {
            pid_ = -1;
            close_fds();
            throw std::system_error(rc, std::generic_category(), "posix_spawn " + program);
        }
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            ::kill(pid_, SIGCONT);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
        }
        close_fds();
    }

    pid_t pid() const { return pid_; }

    // ---- stdin ----

    // Writes `line` and a newline to the child's stdin; throws if it cannot.
    void send(const std::string& line) {
        const std::string data = line + "\n";
        if (to_child_ < 0) throw std::system_error(EBADF, std::generic_category(), "send");
        if (::write(to_child_, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
            throw_errno("write to child");
        }
    }

    // The child sees end of file on its stdin.
    void close_stdin() {
        if (to_child_ >= 0) ::close(to_child_);
        to_child_ = -1;
    }

    // ---- stdout ----

    // The next line the child printed (without its newline), or nothing at end of file or
    // after `timeout`; eof() tells which.
    std::optional<std::string> read_line(
        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                lines_.push_back(line);
                return line;
            }
            if (eof_) return std::nullopt;
            const auto left = left_until(deadline);
            if (left.count() <= 0) return std::nullopt;
            pollfd p{from_child_, POLLIN, 0};
            const int n = ::poll(&p, 1, static_cast<int>(left.count()));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return std::nullopt;
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

    // Reads lines until one starts with `prefix` and returns it; "" if none came within
    // `timeout` (or before end of file).
    std::string expect_line(std::string_view prefix,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            const auto left = left_until(deadline);
            if (left.count() <= 0) return {};
            const std::optional<std::string> line = read_line(left);
            if (!line) return {};
            if (line->rfind(prefix, 0) == 0) return *line;
        }
    }

    // Reads until end of file (or the timeout); every line read so far.
    const std::vector<std::string>& read_all(
        std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
        const auto deadline = Clock::now() + timeout;
        while (!eof_ && Clock::now() < deadline) read_line(left_until(deadline));
        return lines_;
    }

    // Every line read so far, in order.
    const std::vector<std::string>& lines() const { return lines_; }
    bool eof() const { return eof_; }

    // ---- signals and state ----

    // Sends `sig` unless the child was already reaped (its pid may belong to another process).
    void signal(int sig) const {
        if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
    }

    // Waits for the child to end. Leaves a child still running after `timeout` alone (the
    // destructor kills it) and reports it as timed_out. Once reaped, returns how it ended.
    ExitStatus wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        if (reaped_) return status_;
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            int st = 0;
            const pid_t r = ::waitpid(pid_, &st, WNOHANG);
            if (r == pid_) {
                record(st);
                return status_;
            }
            if ((r < 0 && errno != EINTR) || Clock::now() >= deadline) {
                ExitStatus s;
                s.timed_out = true;
                return s;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    // Waits until the child stopped (SIGSTOP); false on timeout or if it ended instead.
    bool wait_stopped(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return wait_state(WUNTRACED, timeout, [](int st) { return WIFSTOPPED(st); });
    }

    // Waits until a stopped child continued (SIGCONT); false on timeout or if it ended.
    bool wait_continued(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return wait_state(WCONTINUED, timeout, [](int st) { return WIFCONTINUED(st); });
    }

    // Still running (not yet ended; reaps it if it has).
    bool running() {
        if (reaped_) return false;
        int st = 0;
        if (::waitpid(pid_, &st, WNOHANG) == pid_ && (WIFEXITED(st) || WIFSIGNALED(st))) {
            record(st);
            return false;
        }
        return true;
    }

  private:
    [[noreturn]] static void throw_errno(const std::string& what) {
        throw std::system_error(errno, std::generic_category(), what);
    }

    static std::chrono::milliseconds left_until(Clock::time_point deadline) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    }

    // This process's environment without the keys options.unset_env names or options.env
    // sets, then options.env.
    static std::vector<std::string> environment(const SpawnOptions& options) {
        auto key_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
        std::vector<std::string> env;
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string entry = *e;
            const std::string key = key_of(entry);
            bool dropped = false;
            for (const auto& k : options.unset_env) dropped |= k == key;
            for (const auto& add : options.env) dropped |= key_of(add) == key;
            if (!dropped) env.push_back(entry);
        }
        env.insert(env.end(), options.env.begin(), options.env.end());
        return env;
    }

    template <class Is>
    bool wait_state(int options, std::chrono::milliseconds timeout, Is is) {
        if (reaped_) return false;
        const auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            int st = 0;
            const pid_t r = ::waitpid(pid_, &st, WNOHANG | options);
            if (r == pid_) {
                if (is(st)) return true;
                if (WIFEXITED(st) || WIFSIGNALED(st)) {
                    record(st);
                    return false;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return false;
    }

    void record(int st) {
        reaped_ = true;
        status_.exited = WIFEXITED(st);
        status_.code = status_.exited ? WEXITSTATUS(st) : -1;
        status_.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    }

    void close_fds() {
        close_stdin();
        if (from_child_ >= 0) ::close(from_child_);
        from_child_ = -1;
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

}  // namespace shmrec_test
