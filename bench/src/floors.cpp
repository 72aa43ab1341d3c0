#include "floors.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bit>
#include <climits>
#include <cstring>
#include <vector>

#include "cases.hpp"

namespace bench {
namespace {

// The same pause the library's wait loop uses between polls.
inline void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

std::uint32_t* word(Line& l) noexcept {
    // The low half of the 64-bit value is the futex word (little endian assumed, as on
    // every machine this runs on; checked below).
    static_assert(std::endian::native == std::endian::little);
    return reinterpret_cast<std::uint32_t*>(&l.value);
}

void futex_wait(std::uint32_t* w, std::uint32_t expected) {
    timespec limit{0, 100'000'000};  // re-check the watchdog every 100 ms
    ::syscall(SYS_futex, w, FUTEX_WAIT, expected, &limit, nullptr, 0);
}
void futex_wake(std::uint32_t* w) { ::syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0); }

}  // namespace

void cacheline_pingpong(Control& ctl, Side side, std::uint64_t n, std::int64_t* samples) {
    Watchdog dog;
    // Both counters equal the number of round trips done so far: each run continues from them.
    if (side == Side::a) {
        const std::uint64_t base = ctl.ping.value.load(std::memory_order_relaxed);
        for (std::uint64_t i = 0; i < n; ++i) {
            const std::uint64_t v = base + i + 1;
            const std::int64_t t0 = now_ns();
            ctl.ping.value.store(v, std::memory_order_release);
            while (ctl.pong.value.load(std::memory_order_acquire) != v) {
                relax();
                dog.poll();
            }
            samples[i] = now_ns() - t0;
        }
    } else {
        const std::uint64_t base = ctl.pong.value.load(std::memory_order_relaxed);
        for (std::uint64_t i = 0; i < n; ++i) {
            const std::uint64_t v = base + i + 1;
            while (ctl.ping.value.load(std::memory_order_acquire) != v) {
                relax();
                dog.poll();
            }
            ctl.pong.value.store(v, std::memory_order_release);
        }
    }
}

void futex_pingpong(Control& ctl, Side side, std::uint64_t n, std::int64_t* samples) {
    Watchdog dog;
    auto& mine = side == Side::a ? ctl.futex_ab : ctl.futex_ba;
    auto& theirs = side == Side::a ? ctl.futex_ba : ctl.futex_ab;
    // Sleep at once (no spin) and wake on every message: the bare cost of a futex round trip.
    auto await = [&](std::uint64_t v) {
        for (;;) {
            const std::uint64_t seen = theirs.value.load(std::memory_order_acquire);
            if (seen == v) return;
            futex_wait(word(theirs), static_cast<std::uint32_t>(seen));
            dog.check();
        }
    };
    auto post = [&](std::uint64_t v) {
        mine.value.store(v, std::memory_order_release);
        futex_wake(word(mine));
    };
    const std::uint64_t base = mine.value.load(std::memory_order_relaxed);
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t v = base + i + 1;
        if (side == Side::a) {
            const std::int64_t t0 = now_ns();
            post(v);
            await(v);
            samples[i] = now_ns() - t0;
        } else {
            await(v);
            post(v);
        }
    }
}

double memcpy_bandwidth(std::size_t block, std::size_t footprint, std::chrono::nanoseconds run) {
    const std::size_t blocks = std::max<std::size_t>(1, footprint / block);
    std::vector<std::byte> src(blocks * block, std::byte{0x5a});
    std::vector<std::byte> dst(blocks * block, std::byte{0});
    std::uint64_t bytes = 0;
    const std::int64_t start = now_ns();
    std::int64_t now = start;
    while (now - start < run.count()) {
        for (std::size_t i = 0; i < blocks; ++i) {
            std::memcpy(dst.data() + i * block, src.data() + i * block, block);
            // Keep every copy: the destination "escapes" to the optimiser.
            asm volatile("" : : "r"(dst.data()) : "memory");
        }
        bytes += blocks * block;
        now = now_ns();
    }
    return static_cast<double>(bytes) * 1e9 / static_cast<double>(now - start);
}

}  // namespace bench
