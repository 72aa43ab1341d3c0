// Clocks and waits of the runtime tests: elapsed milliseconds, CLOCK_MONOTONIC nanoseconds (the
// clock a peer stamps records with), whether a sanitizer slows this build down, and
// when_waiting() for wake-up tests. No GoogleTest here: peer programs include it too.
#pragma once

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <time.h>
#endif

#include <chrono>
#include <cstdint>
#include <thread>

#include "shmrec/detail/region_access.hpp"

namespace shmrec_test {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// CLOCK_MONOTONIC in nanoseconds (Windows: QueryPerformanceCounter): comparable between
// processes.
inline std::uint64_t monotonic_ns() {
#if defined(_WIN32)
    LARGE_INTEGER frequency{}, counter{};
    ::QueryPerformanceFrequency(&frequency);
    ::QueryPerformanceCounter(&counter);
    const auto f = static_cast<std::uint64_t>(frequency.QuadPart);
    const auto c = static_cast<std::uint64_t>(counter.QuadPart);
    return c / f * 1'000'000'000u + c % f * 1'000'000'000u / f;
#else
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec);
#endif
}

// std::this_thread::sleep_for for peers that pace themselves, except on Windows, where MinGW's
// sleep_for returns at once below 1 ms (winpthreads rounds the sleep down to whole
// milliseconds): there a shorter sleep lasts 1 ms. Either way it lasts at least `d`.
template <class Rep, class Period>
void sleep_at_least(std::chrono::duration<Rep, Period> d) {
#if defined(_WIN32)
    if (d > std::chrono::duration<Rep, Period>::zero() && d < std::chrono::milliseconds(1)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return;
    }
#endif
    std::this_thread::sleep_for(d);
}

// ThreadSanitizer and AddressSanitizer slow every access ~10x: tests scale their streams down.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool under_sanitizer = true;
#else
inline constexpr bool under_sanitizer = false;
#endif

// The Windows build runs its tests under Wine (make test-windows), where every wake-up and every
// open of a region is a wineserver round trip (docs/windows.md): a stream of wake-ups or a loop
// of opens that takes a second natively takes a minute there. Those tests scale down there too.
#if defined(_WIN32)
inline constexpr bool windows_build = true;
#else
inline constexpr bool windows_build = false;
#endif
inline constexpr bool wine_or_sanitizer = windows_build || under_sanitizer;

// True while some reader of `region` is registered asleep on its board (cell, broadcast).
inline bool reader_waiting(const shmrec::Region& region) {
    for (const auto& word : shmrec::detail::RegionAccess::board(region).waiting) {
        if (word.load() != 0) return true;
    }
    return false;
}

// Runs `action` on a thread once `reader` is asleep in read(timeout) (registered on the reader
// board), so a test knows the wake-up, not a lucky poll, ended the wait. Runs it anyway after
// `give_up`.
template <class Reader, class Action>
std::thread when_waiting(const Reader& reader, Action action,
                         std::chrono::milliseconds give_up = std::chrono::seconds(5)) {
    return std::thread([&reader, action, give_up] {
        const auto until = Clock::now() + give_up;
        while (!reader_waiting(reader.region()) && Clock::now() < until) {
            std::this_thread::yield();
        }
        action();
    });
}

}  // namespace shmrec_test
