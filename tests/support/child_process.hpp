// ChildProcess: a peer program started with its stdin and stdout connected to the test by pipes
// (stderr is inherited, so its diagnostics reach the test log). Shared by the process tests of
// tests/integration, tests/channels, tests/reliability and tests/regressions.
//
//   shmrec_test::ChildProcess peer(SHMREC_TEST_PEER, {"cell-writer", "--name", n});
//   ASSERT_EQ(peer.read_line(), "ready");
//   peer.send("go");
//   const shmrec_test::ExitStatus s = peer.wait_exit(10s);
//   EXPECT_TRUE(s.ok()) << s.describe();
//
// The destructor kills (and continues, in case it is stopped) and reaps a child the test did not
// wait for, so no child outlives its test. No GoogleTest here: peer programs include it too.
//
// Two implementations with one interface:
//   child_process_posix.hpp    posix_spawn, kill(2), waitpid(2)
//   child_process_windows.hpp  CreateProcessW with an explicit list of inherited handles,
//                              TerminateProcess, NtSuspendProcess / NtResumeProcess
//
// Signals on Windows. There are none between processes; signal() maps the three the tests send:
//   SIGKILL, SIGTERM  TerminateProcess with exit code 128 + signal (137, 143): wait_exit() then
//                     reports ExitStatus::killed(signal), exactly as on Linux. A child that ends
//                     itself with TerminateProcess(GetCurrentProcess(), 128 + SIGKILL) (the
//                     runtime's "kill" fault point) reads the same way. So does any exit code
//                     129..159: no peer program exits with one on purpose.
//   SIGSTOP, SIGCONT  NtSuspendProcess / NtResumeProcess (every thread's suspend count + / - 1).
//                     wait_stopped() is true once every thread of the child is suspended, however
//                     that happened (also the child's own NtSuspendProcess(GetCurrentProcess()),
//                     the runtime's "stop" fault point); wait_continued() once none is.
// Any other signal throws std::invalid_argument on Windows (a test about it must be Linux-only).
// An unhandled exception ends a Windows process with its exception code; ExitStatus reports the
// usual ones as the signal Linux would have sent: access violation, stack overflow and in-page
// error as SIGSEGV, illegal instruction as SIGILL, integer division by zero as SIGFPE, a fast
// fail (__fastfail, the UCRT's abort) as SIGABRT. MinGW's abort() is exit code 3.
//
// SpawnOptions::extra_fd on Windows: the CRT descriptor's handle is inherited (and only it, with
// the pipes and stderr) and its value is passed in the environment variable SHMREC_TEST_FD3; the
// child gets a descriptor for it with extra_fd_in_child() (3 on POSIX).
#pragma once

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#if defined(_WIN32)
// The signals signal() understands on Windows, with their Linux numbers (MinGW's <signal.h>
// has SIGTERM, SIGSEGV, SIGABRT and a few more, not these).
#ifndef SIGKILL
#define SIGKILL 9
#endif
#ifndef SIGCONT
#define SIGCONT 18
#endif
#ifndef SIGSTOP
#define SIGSTOP 19
#endif
#endif

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace shmrec_test {

// This process's id (getpid(), GetCurrentProcessId()).
inline long this_pid() {
#if defined(_WIN32)
    return static_cast<long>(::GetCurrentProcessId());
#else
    return static_cast<long>(::getpid());
#endif
}

// How a child ended, or that it had not by the deadline.
struct ExitStatus {
    bool exited = false;     // normal exit
    int code = -1;           // exit code when exited
    int signal = 0;          // terminating signal otherwise
    bool timed_out = false;  // still running when the wait gave up

    // For EXPECT_EQ(child.wait_exit(), ExitStatus::code_of(0)) / ExitStatus::killed(SIGKILL).
    static ExitStatus code_of(int c) { return {true, c, 0, false}; }
    static ExitStatus killed(int sig) { return {false, -1, sig, false}; }

    bool ok() const { return exited && code == 0; }
    friend bool operator==(const ExitStatus&, const ExitStatus&) = default;

    std::string describe() const {
        if (timed_out) return "still running (timeout)";
        if (exited) return "exit code " + std::to_string(code);
        return std::string("killed by signal ") + std::to_string(signal) + " (" +
               signal_name(signal) + ")";
    }
    friend std::ostream& operator<<(std::ostream& os, const ExitStatus& s) {
        return os << s.describe();
    }

  private:
    static std::string signal_name(int sig) {
#if defined(_WIN32)
        switch (sig) {
            case SIGKILL: return "SIGKILL: TerminateProcess, exit code 137";
            case SIGTERM: return "SIGTERM: TerminateProcess, exit code 143";
            case SIGSEGV: return "SIGSEGV: access violation";
            case SIGILL: return "SIGILL: illegal instruction";
            case SIGFPE: return "SIGFPE: division by zero";
            case SIGABRT: return "SIGABRT: fast fail";
            default: return "signal " + std::to_string(sig);
        }
#else
        return ::strsignal(sig);
#endif
    }
};

struct SpawnOptions {
    std::vector<std::string> env;        // "KEY=value": added to (or replacing in) the environment
    int extra_fd = -1;                   // dup'ed to fd 3 in the child when >= 0 (see above)
    std::vector<std::string> unset_env;  // KEYs the child does not inherit
};

}  // namespace shmrec_test

#if defined(_WIN32)
#include "child_process_windows.hpp"
#else
#include "child_process_posix.hpp"
#endif
