// Internal: the byte-range locks that carry roles and liveness in a region file.
//
// Open-file-description locks (F_OFD_SETLK): the kernel drops them when their holder dies in
// any way (kill -9 included); they belong to one open, not to a process (a second open of the
// same region in this process does not share them, and a fork does not duplicate ownership
// into something the parent can lose); and they never involve a pid, so pid reuse and pid
// namespaces cannot fool them. A stopped (SIGSTOP) holder keeps them.
#pragma once

#include <sys/types.h>

namespace shmrec::detail {

inline constexpr off_t writer_lock_byte = 0;    // exclusive: the one writer
inline constexpr off_t consumer_lock_byte = 1;  // exclusive: a ring's one consumer
inline constexpr off_t attached_lock_byte = 2;  // shared by every participant

bool try_lock_exclusive(int fd, off_t byte) noexcept;
bool try_lock_shared(int fd, off_t byte) noexcept;
void unlock(int fd, off_t byte) noexcept;
// True when another open file description holds a lock on `byte` (a shared one counts).
bool lock_held_elsewhere(int fd, off_t byte) noexcept;

}  // namespace shmrec::detail
