// POSIX lock slots: open-file-description locks on one byte per slot (platform/lock_slots.hpp).
#include "platform/lock_slots.hpp"

#include <fcntl.h>

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

}  // namespace shmrec::platform
