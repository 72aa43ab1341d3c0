// Internal (platform layer): numbered lock slots on a region object, carrying roles and
// liveness.
//
// POSIX: open-file-description locks (F_OFD_SETLK) on one byte per slot. The kernel drops them
// when their holder dies in any way (kill -9 included); they belong to one open, not to a
// process (a second open of the same region in this process does not share them, and a fork
// does not duplicate ownership into something the parent can lose); and they never involve a
// pid, so pid reuse and pid namespaces cannot fool them. A stopped (SIGSTOP) holder keeps them.
// (Windows: LockFileEx on one byte per slot, released by the kernel at process death.)
#pragma once

#include <cstdint>

#include "platform/handle.hpp"

namespace shmrec::platform {

// A slot number: the byte offset of the lock.
using LockSlot = std::int64_t;

inline constexpr LockSlot writer_lock_byte = 0;    // exclusive: the one writer
inline constexpr LockSlot consumer_lock_byte = 1;  // exclusive: a ring's one consumer
inline constexpr LockSlot attached_lock_byte = 2;  // shared by every participant

// Non-blocking: false when another open holds a conflicting lock on the slot (or on error).
bool try_lock_exclusive(Handle h, LockSlot slot) noexcept;
bool try_lock_shared(Handle h, LockSlot slot) noexcept;
void unlock(Handle h, LockSlot slot) noexcept;
// True when another open holds a lock on the slot (a shared one counts): the probe.
bool lock_held_elsewhere(Handle h, LockSlot slot) noexcept;

}  // namespace shmrec::platform
