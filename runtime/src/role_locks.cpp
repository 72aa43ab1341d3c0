#include "role_locks.hpp"

#include <fcntl.h>

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

}  // namespace shmrec::detail
