#include "interrupt.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <thread>

namespace bridge_bench {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto slice = 100ms;

volatile std::sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int signal) {
    stop_signal = signal;
}

std::chrono::milliseconds left_until(Clock::time_point deadline) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
}

}  // namespace

Interrupted::Interrupted(int sig)
    : std::runtime_error(std::string("interrupted by ") + ::strsignal(sig)), signal(sig) {}

void catch_stop_signals() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);
}

void throw_if_interrupted() {
    if (stop_signal != 0) throw Interrupted(stop_signal);
}

void pause_for(std::chrono::milliseconds duration) {
    const auto deadline = Clock::now() + duration;
    for (auto left = left_until(deadline); left.count() > 0; left = left_until(deadline)) {
        throw_if_interrupted();
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(left, slice));
    }
    throw_if_interrupted();
}

std::string tail_of(const shmrec_test::ChildProcess& child, std::size_t lines) {
    const auto& all = child.lines();
    std::string out;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
        out += "\n    " + all[i];
    }
    return out.empty() ? " (no output)" : out;
}

std::string await_line(shmrec_test::ChildProcess& child, std::string_view prefix,
                       std::chrono::milliseconds timeout, const std::string& what) {
    const auto deadline = Clock::now() + timeout;
    while (!child.eof() && Clock::now() < deadline) {
        throw_if_interrupted();
        const auto line = child.read_line(std::min(slice, std::max(left_until(deadline), 1ms)));
        if (line && line->rfind(prefix, 0) == 0) return *line;
    }
    const std::string why =
        child.eof() ? "ended its output"
                    : "printed nothing more within " + std::to_string(timeout.count()) + " ms";
    throw std::runtime_error(what + " " + why + " before a \"" + std::string(prefix) +
                             "...\" line; its last lines:" + tail_of(child));
}

const std::vector<std::string>& read_to_end(shmrec_test::ChildProcess& child,
                                            std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!child.eof() && Clock::now() < deadline) {
        throw_if_interrupted();
        (void)child.read_line(std::min(slice, std::max(left_until(deadline), 1ms)));
    }
    return child.lines();
}

void expect_clean_exit(shmrec_test::ChildProcess& child, const std::string& what,
                       std::chrono::milliseconds timeout) {
    read_to_end(child, timeout);
    const shmrec_test::ExitStatus status = child.wait_exit(5s);
    if (!status.ok()) {
        throw std::runtime_error(what + " ended with " + status.describe() +
                                 "; its last lines:" + tail_of(child));
    }
}

void stop_and_check(shmrec_test::ChildProcess& child, const std::string& what) {
    child.signal(SIGTERM);
    expect_clean_exit(child, what, 10s);
}

}  // namespace bridge_bench
