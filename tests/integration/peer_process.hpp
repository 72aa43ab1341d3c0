// PeerProcess: shmrec_test_peer started with posix_spawn, its stdin and stdout connected to the
// test by pipes. The destructor kills (SIGKILL) and reaps a peer the test did not wait for, so
// no child outlives its test.
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
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

extern char** environ;

namespace shmrec_test {

class PeerProcess {
  public:
    explicit PeerProcess(const std::vector<std::string>& args) {
        int to_child[2], from_child[2];
        // O_CLOEXEC: our ends must not leak into other children (a leaked write end would
        // keep a peer's stdin from ever reaching end of file).
        if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
            throw std::system_error(errno, std::generic_category(), "pipe2");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(SHMREC_TEST_PEER));
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        const int rc =
            ::posix_spawn(&pid_, SHMREC_TEST_PEER, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(to_child[0]);
        ::close(from_child[1]);
        to_child_ = to_child[1];
        from_child_ = from_child[0];
        if (rc != 0) {
            pid_ = -1;
            throw std::system_error(rc, std::generic_category(), "posix_spawn " SHMREC_TEST_PEER);
        }
    }
    PeerProcess(const PeerProcess&) = delete;
    PeerProcess& operator=(const PeerProcess&) = delete;
    ~PeerProcess() {
        close_stdin();
        if (from_child_ >= 0) ::close(from_child_);
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
        }
    }

    pid_t pid() const { return pid_; }

    void send(const std::string& line) {
        const std::string data = line + "\n";
        if (::write(to_child_, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
            throw std::system_error(errno, std::generic_category(), "write to peer");
        }
    }

    void close_stdin() {
        if (to_child_ >= 0) ::close(to_child_);
        to_child_ = -1;
    }

    // The next line the peer printed, or nothing at end of file or after `timeout`.
    std::optional<std::string> read_line(
        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{from_child_, POLLIN, 0};
            const int n = ::poll(&p, 1, static_cast<int>(left.count()));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return std::nullopt;
            char chunk[256];
            const ssize_t got = ::read(from_child_, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<std::size_t>(got));
        }
    }

    void signal(int sig) { ::kill(pid_, sig); }

    // Waits for a state change (WUNTRACED / WCONTINUED as asked); the raw waitpid status.
    int wait_for(int options) {
        int status = 0;
        pid_t r;
        do {
            r = ::waitpid(pid_, &status, options);
        } while (r < 0 && errno == EINTR);
        if (r == pid_ && (WIFEXITED(status) || WIFSIGNALED(status))) reaped_ = true;
        return status;
    }

    // Waits for the peer to end; its exit code, or 128 + signal. A peer still running after
    // `timeout` is killed and reported as -1.
    int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        int status = 0;
        for (;;) {
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) break;
            if (r < 0 && errno != EINTR) return -1;
            if (std::chrono::steady_clock::now() >= deadline) {
                ::kill(pid_, SIGKILL);
                wait_for(0);
                reaped_ = true;
                return -1;
            }
            ::usleep(1000);  // bounded poll for the exit: no pidfd in this helper
        }
        reaped_ = true;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return -1;
    }

  private:
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    bool reaped_ = false;
    std::string buffer_;
};

}  // namespace shmrec_test
