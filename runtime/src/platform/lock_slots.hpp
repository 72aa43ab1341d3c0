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
#include <vector>

#include "platform/handle.hpp"
#include "shmrec/detail/region_access.hpp"

namespace shmrec::platform {

// A slot number: the byte offset of the lock. The numbering is detail::LockSlot's.
using LockSlot = std::int64_t;

inline constexpr LockSlot writer_lock_byte =  // exclusive: the one writer
    static_cast<LockSlot>(detail::LockSlot::writer);
inline constexpr LockSlot consumer_lock_byte =  // exclusive: a ring's one consumer
    static_cast<LockSlot>(detail::LockSlot::consumer);
inline constexpr LockSlot attached_lock_byte =  // shared by every participant
    static_cast<LockSlot>(detail::LockSlot::attached);

// Non-blocking: false when another open holds a conflicting lock on the slot (or on error).
bool try_lock_exclusive(Handle h, LockSlot slot) noexcept;
bool try_lock_shared(Handle h, LockSlot slot) noexcept;
void unlock(Handle h, LockSlot slot) noexcept;
// True when another open holds a lock on the slot (a shared one counts): the probe.
bool lock_held_elsewhere(Handle h, LockSlot slot) noexcept;
// How many of the `count` slots from `first` other opens hold locks on: one query per held
// slot, plus one (reader slots: Region::readers()).
std::uint32_t count_held_elsewhere(Handle h, LockSlot first, std::uint32_t count) noexcept;
// The same, listing them: appends the index (from `first`) of every held slot to `out`, in no
// particular order.
void list_held_elsewhere(Handle h, LockSlot first, std::uint32_t count,
                         std::vector<std::uint32_t>& out);

}  // namespace shmrec::platform
