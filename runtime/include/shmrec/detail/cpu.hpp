// Two CPU-level primitives of the data path.
#pragma once

#include <atomic>

#if defined(__SANITIZE_THREAD__)
#define SHMREC_DETAIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHMREC_DETAIL_TSAN 1
#endif
#endif

namespace shmrec::detail {

// Between polls of a shared word: tells the core it is spinning (less power, no memory-order
// mis-speculation penalty when the word changes).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

// A sequentially consistent fence: the store-load barrier of the Dekker handshakes between a
// publisher and a waiter who registers before it sleeps (see ring.hpp). On x86-64 a locked
// read-modify-write of the stack is a full barrier and costs far less than MFENCE (which AMD
// cores also make dispatch-serialising); the Linux kernel's smp_mb() makes the same choice.
// Under ThreadSanitizer, which models neither, the standard fence keeps the source honest.
inline void full_fence() noexcept {
#if defined(__x86_64__) && !defined(SHMREC_DETAIL_TSAN)
    asm volatile("lock orq $0, (%%rsp)" ::: "memory", "cc");
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace shmrec::detail
