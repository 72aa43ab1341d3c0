// POSIX process identity and wall clock (platform/process.hpp): /proc/<pid>/stat, clock_gettime.
#include "platform/process.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace shmrec::platform {

namespace {

std::uint64_t start_time_of(std::int32_t pid) noexcept {
    try {
        std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(in, line)) return 0;
        // The command name (field 2) is in parentheses and may contain spaces or ')'; the
        // fields after the last ')' start with field 3 (state). starttime is field 22.
        const auto close = line.rfind(')');
        if (close == std::string::npos) return 0;
        std::istringstream fields(line.substr(close + 1));
        std::string field;
        for (int i = 3; i <= 22 && (fields >> field); ++i) {
            if (i == 22) return std::strtoull(field.c_str(), nullptr, 10);
        }
    } catch (...) {
    }
    return 0;
}

}  // namespace

ProcessIdentity current_process() noexcept {
    const auto pid = static_cast<std::int32_t>(::getpid());
    return {pid, start_time_of(pid)};
}

std::uint64_t wall_clock_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

void kill_self() noexcept {
    ::raise(SIGKILL);
    ::_exit(137);  // not reached
}

void stop_self() noexcept { ::raise(SIGSTOP); }

}  // namespace shmrec::platform
