// Runs a program (the built `shmrec` tool, or unshare around it) as a real process and
// collects its exit status, stdout and stderr, bounded by a timeout.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>
#include <vector>

#include "child_process.hpp"

namespace shmrec_tool_test {

using namespace std::chrono_literals;

struct RunResult {
    shmrec_test::ExitStatus status;
    std::string out;
    std::string err;
    std::chrono::milliseconds elapsed{0};

    int code() const { return status.exited ? status.code : -1; }
    // For failure messages.
    std::string describe() const {
        return status.describe() + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
    }
};

// Runs `program args...` (looked up in PATH without a '/'), stdin from /dev/null. A process
// still running at `timeout` is killed and reported as timed out.
inline RunResult run(const std::string& program, const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = 20s) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category());
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    std::vector<std::string> argv_s{program};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    RunResult result;
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        result.status = shmrec_test::ExitStatus::code_of(127);
        result.err = "posix_spawn " + program + " failed: " + std::to_string(rc);
        return result;
    }
    const auto deadline = start + timeout;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_pipes = 2;
    bool timed_out = false;
    while (open_pipes > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        const int n = ::poll(fds, 2, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char chunk[4096];
            const ssize_t got = ::read(fds[i].fd, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_pipes;
                continue;
            }
            sinks[i]->append(chunk, static_cast<std::size_t>(got));
        }
    }
    for (auto& p : fds) {
        if (p.fd >= 0) ::close(p.fd);
    }
    if (timed_out) ::kill(pid, SIGKILL);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    if (timed_out) {
        result.status.timed_out = true;
    } else if (WIFEXITED(st)) {
        result.status = shmrec_test::ExitStatus::code_of(WEXITSTATUS(st));
    } else {
        result.status = shmrec_test::ExitStatus::killed(WTERMSIG(st));
    }
    return result;
}

// The built shmrec tool.
inline RunResult shmrec(const std::vector<std::string>& args,
                        std::chrono::milliseconds timeout = 20s) {
    return run(SHMREC_TOOL, args, timeout);
}

}  // namespace shmrec_tool_test
