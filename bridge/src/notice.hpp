// One line for people on stdout, flushed at once (tests and supervisors follow it live):
// "shmrec-bridge: exporting TestMemShare ...". Errors go to stderr, from main.
#pragma once

#include <cstdio>
#include <utility>

#include <fmt/format.h>

namespace shmrec::bridge {

template <class... Args>
void notice(fmt::format_string<Args...> format, Args&&... args) {
    fmt::print(stdout, "shmrec-bridge: {}\n", fmt::format(format, std::forward<Args>(args)...));
    std::fflush(stdout);
}

}  // namespace shmrec::bridge
