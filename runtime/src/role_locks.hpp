// Internal: the byte-range locks that carry roles and liveness in a region file.
//
// Open-file-description locks (F_OFD_SETLK): the kernel drops them when their holder dies in
// any way (kill -9 included); they belong to one open, not to a process (a second open of the
// same region in this process does not share them, and a fork does not duplicate ownership
// into something the parent can lose); and they never involve a pid, so pid reuse and pid
// namespaces cannot fool them. A stopped (SIGSTOP) holder keeps them.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "shmrec/detail/region_access.hpp"

namespace shmrec::detail {

// The byte of lock slot `slot` (detail/region_access.hpp numbers them).
constexpr off_t lock_byte(LockSlot slot) noexcept { return static_cast<off_t>(slot); }
constexpr off_t lock_byte(std::uint32_t slot) noexcept { return static_cast<off_t>(slot); }
inline constexpr off_t writer_lock_byte = lock_byte(LockSlot::writer);      // exclusive
inline constexpr off_t consumer_lock_byte = lock_byte(LockSlot::consumer);  // exclusive
inline constexpr off_t attached_lock_byte = lock_byte(LockSlot::attached);  // shared by all

bool try_lock_exclusive(int fd, off_t byte) noexcept;
bool try_lock_shared(int fd, off_t byte) noexcept;
void unlock(int fd, off_t byte) noexcept;
// True when another open file description holds a lock on `byte` (a shared one counts).
bool lock_held_elsewhere(int fd, off_t byte) noexcept;
// How many of the `count` bytes from `first` other open file descriptions hold locks on: one
// query per held byte, plus one.
std::uint32_t count_held_elsewhere(int fd, off_t first, std::uint32_t count) noexcept;

}  // namespace shmrec::detail
