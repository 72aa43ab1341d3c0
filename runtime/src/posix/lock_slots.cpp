// POSIX lock slots: open-file-description locks on one byte per slot (platform/lock_slots.hpp).
#include "platform/lock_slots.hpp"

#include <fcntl.h>

#include <algorithm>

namespace shmrec::platform {

namespace {

bool set_lock(Handle fd, LockSlot slot, short type) noexcept {
    struct flock lock {};
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    lock.l_start = static_cast<off_t>(slot);
    lock.l_len = 1;
    return ::fcntl(fd, F_OFD_SETLK, &lock) == 0;
}

}  // namespace

bool try_lock_exclusive(Handle fd, LockSlot slot) noexcept { return set_lock(fd, slot, F_WRLCK); }
bool try_lock_shared(Handle fd, LockSlot slot) noexcept { return set_lock(fd, slot, F_RDLCK); }
void unlock(Handle fd, LockSlot slot) noexcept { set_lock(fd, slot, F_UNLCK); }

bool lock_held_elsewhere(Handle fd, LockSlot slot) noexcept {
    struct flock lock {};
    lock.l_type = F_WRLCK;  // conflicts with any lock another description holds
    lock.l_whence = SEEK_SET;
    lock.l_start = static_cast<off_t>(slot);
    lock.l_len = 1;
    if (::fcntl(fd, F_OFD_GETLK, &lock) != 0) return false;
    return lock.l_type != F_UNLCK;
}

std::uint32_t count_held_elsewhere(Handle fd, LockSlot first, std::uint32_t count) noexcept {
    if (count == 0) return 0;
    const off_t begin = static_cast<off_t>(first);
    const off_t end = begin + static_cast<off_t>(count);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = begin;
    lock.l_len = static_cast<off_t>(count);
    // GETLK reports one conflicting lock in the range, not necessarily the lowest: count its
    // bytes, then the two parts of the range on either side of it.
    if (::fcntl(fd, F_OFD_GETLK, &lock) != 0 || lock.l_type == F_UNLCK) return 0;
    const off_t from = std::max(begin, lock.l_start);
    const off_t to = lock.l_len == 0 ? end : std::min(end, lock.l_start + lock.l_len);
    if (to <= from) return 0;  // cannot happen for a conflicting lock; never loop on it
    return static_cast<std::uint32_t>(to - from) +
           count_held_elsewhere(fd, first, static_cast<std::uint32_t>(from - begin)) +
           count_held_elsewhere(fd, to, static_cast<std::uint32_t>(end - to));
}

namespace {

void list_held(Handle fd, LockSlot base, LockSlot first, std::uint32_t count,
               std::vector<std::uint32_t>& out) {
    if (count == 0) return;
    const off_t begin = static_cast<off_t>(first);
    const off_t end = begin + static_cast<off_t>(count);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = begin;
    lock.l_len = static_cast<off_t>(count);
    // As count_held_elsewhere: the conflicting lock GETLK reports, then both sides of it.
    if (::fcntl(fd, F_OFD_GETLK, &lock) != 0 || lock.l_type == F_UNLCK) return;
    const off_t from = std::max(begin, lock.l_start);
    const off_t to = lock.l_len == 0 ? end : std::min(end, lock.l_start + lock.l_len);
    if (to <= from) return;
    for (off_t i = from; i < to; ++i) out.push_back(static_cast<std::uint32_t>(i - base));
    list_held(fd, base, first, static_cast<std::uint32_t>(from - begin), out);
    list_held(fd, base, to, static_cast<std::uint32_t>(end - to), out);
}

}  // namespace

void list_held_elsewhere(Handle fd, LockSlot first, std::uint32_t count,
                         std::vector<std::uint32_t>& out) {
    list_held(fd, first, first, count, out);
}

}  // namespace shmrec::platform
