// fork() and shmrec handles. A child made by fork() (not by exec, which never sees them: every
// region descriptor is close-on-exec) inherits the parent's mappings and descriptors. It must
// not act as the parent: its copies of the descriptors and of the mappings (a mapping holds
// the open file description too) would keep the parent's liveness locks alive after the
// parent died, and a second writer would break the channel's protocol. So in the child every
// region descriptor is pointed at /dev/null, every region mapping is replaced by an
// inaccessible anonymous one of the same size (the locks stay with the parent), and the
// process's fork generation moves on: handles made before the fork refuse every operation
// with a `handle_forked` status, before touching the (now inaccessible) memory.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmrec::detail {

// Bumped in every child of fork(). Relaxed: a handle compares it with its own copy, taken in
// this process; only a fork can change it, and a fork happens before anything the child does.
inline std::atomic<std::uint32_t> fork_generation_counter{0};

inline std::uint32_t fork_generation() noexcept {
    return fork_generation_counter.load(std::memory_order_relaxed);
}

// What a handle remembers of the process that made it: the fork generation then.
struct ForkStamp {
    std::uint32_t generation = fork_generation();
    bool forked() const noexcept { return fork_generation() != generation; }
};

// The registry of region handles and mappings to blank out in a child, and the fork handlers
// that bump the counter, are internal: runtime/src/platform/fork_guard.hpp.

}  // namespace shmrec::detail
