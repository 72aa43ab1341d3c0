// Interruption and waiting on the benchmark's children. SIGINT, SIGTERM and SIGHUP only set a
// flag; every wait here looks at it at least every 100 ms and throws Interrupted, so the stack
// unwinds through the destructors that kill the children and remove the namespaces and mounts
// (a benchmark killed in a signal handler would leave them behind).
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.hpp"

namespace bridge_bench {

struct Interrupted : std::runtime_error {
    explicit Interrupted(int signal);
    int signal;
};

// Installs the handlers (no SA_RESTART: a wait in poll(2) returns early).
void catch_stop_signals();
// Throws Interrupted once a stop signal came.
void throw_if_interrupted();
// Sleeps, interruptibly.
void pause_for(std::chrono::milliseconds duration);

// The next line of `child` that starts with `prefix`, within `timeout`; throws
// std::runtime_error naming `what` and quoting the child's output when none came.
std::string await_line(shmrec_test::ChildProcess& child, std::string_view prefix,
                       std::chrono::milliseconds timeout, const std::string& what);
// Every line of `child` until it closes its output (it ended) or `timeout`.
const std::vector<std::string>& read_to_end(shmrec_test::ChildProcess& child,
                                            std::chrono::milliseconds timeout);
// Reads `child`'s output to its end (within `timeout`) and waits for its exit; throws (with
// its last lines) unless it exited with status 0.
void expect_clean_exit(shmrec_test::ChildProcess& child, const std::string& what,
                       std::chrono::milliseconds timeout);
// Sends SIGTERM, then expect_clean_exit().
void stop_and_check(shmrec_test::ChildProcess& child, const std::string& what);

// The last lines `child` printed, for an error message.
std::string tail_of(const shmrec_test::ChildProcess& child, std::size_t lines = 8);

}  // namespace bridge_bench
