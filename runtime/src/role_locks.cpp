#include "role_locks.hpp"

#include <fcntl.h>

#include <algorithm>

namespace shmrec::detail {

namespace {

bool set_lock(int fd, off_t byte, short type) noexcept {
    struct flock lock {};
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    lock.l_start = byte;
    lock.l_len = 1;
    return ::fcntl(fd, F_OFD_SETLK, &lock) == 0;
}

}  // namespace

bool try_lock_exclusive(int fd, off_t byte) noexcept { return set_lock(fd, byte, F_WRLCK); }
bool try_lock_shared(int fd, off_t byte) noexcept { return set_lock(fd, byte, F_RDLCK); }
void unlock(int fd, off_t byte) noexcept { set_lock(fd, byte, F_UNLCK); }

bool lock_held_elsewhere(int fd, off_t byte) noexcept {
    struct flock lock {};
    lock.l_type = F_WRLCK;  // conflicts with any lock another description holds
    lock.l_whence = SEEK_SET;
    lock.l_start = byte;
    lock.l_len = 1;
    if (::fcntl(fd, F_OFD_GETLK, &lock) != 0) return false;
    return lock.l_type != F_UNLCK;
}

std::uint32_t count_held_elsewhere(int fd, off_t first, std::uint32_t count) noexcept {
    if (count == 0) return 0;
    const off_t end = first + static_cast<off_t>(count);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = first;
    lock.l_len = static_cast<off_t>(count);
    // GETLK reports one conflicting lock in the range, not necessarily the lowest: count its
    // bytes, then the two parts of the range on either side of it.
    if (::fcntl(fd, F_OFD_GETLK, &lock) != 0 || lock.l_type == F_UNLCK) return 0;
    const off_t from = std::max(first, lock.l_start);
    const off_t to = lock.l_len == 0 ? end : std::min(end, lock.l_start + lock.l_len);
    if (to <= from) return 0;  // cannot happen for a conflicting lock; never loop on it
    return static_cast<std::uint32_t>(to - from) +
           count_held_elsewhere(fd, first, static_cast<std::uint32_t>(from - first)) +
           count_held_elsewhere(fd, to, static_cast<std::uint32_t>(end - to));
}

}  // namespace shmrec::detail
