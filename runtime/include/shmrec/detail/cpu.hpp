// Two CPU-level primitives of the data path.
#pragma once

#include <atomic>

#if defined(_MSC_VER)
#include <intrin.h>
#endif

namespace shmrec::detail {

// Between polls of a shared word: tells the core it is spinning (less power, no memory-order
// mis-speculation penalty when the word changes).
inline void cpu_relax() noexcept {
#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    _mm_pause();
#elif defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

// A sequentially consistent fence: the store-load barrier of the Dekker handshakes between a
// publisher and a waiter who registers before it sleeps (see ring.hpp). Kept as the standard
// fence (MFENCE on x86-64): a locked read-modify-write of the stack, the Linux kernel's
// smp_mb(), measured a few ns better per round trip here but cut batched ring throughput by
// 3x (32 M against 112 M records/s of 8 bytes, shmrec-bench sweep-8).
inline void full_fence() noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }

}  // namespace shmrec::detail
