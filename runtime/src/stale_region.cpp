#include "stale_region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>

#include "role_locks.hpp"
#include "shmrec/detail/region_header.hpp"

namespace shmrec::detail {

namespace {

int open_existing(const Location& where) {
    if (where.backing == Backing::memory) {
        const std::string shm_name = "/" + where.name;
        return ::shm_open(shm_name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    }
    return ::open(where.name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
}

bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool still_named(const Location& where, const struct stat& ours) {
    const int fd = open_existing(where);
    if (fd < 0) return false;
    struct stat now {};
    const bool same = ::fstat(fd, &now) == 0 && same_file(now, ours);
    ::close(fd);
    return same;
}

bool being_created(int fd, const struct stat& st, std::chrono::milliseconds init_timeout) {
    std::uint32_t state = 0;
    const auto n = ::pread(fd, &state, sizeof state, offsetof(RegionHeader, state));
    if (n == static_cast<ssize_t>(sizeof state) &&
        state != static_cast<std::uint32_t>(RegionState::initialising)) {
        return false;
    }
    // Still `initialising` (or too short to say): a creator that died, or one that is between
    // its exclusive create and taking its locks. Only age tells them apart.
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    const auto age = std::chrono::seconds(now.tv_sec - st.st_ctim.tv_sec) +
                     std::chrono::nanoseconds(now.tv_nsec - st.st_ctim.tv_nsec);
    return age < init_timeout;
}

}  // namespace

bool remove_if_stale(const Location& where, std::chrono::milliseconds init_timeout) {
    const int fd = open_existing(where);
    if (fd < 0) return false;
    bool removed = false;
    struct stat st {};
    // Never remove what is not ours: another user's file, not a regular file, or one anybody
    // could have planted (writable by others: a squatter's, never a region we made).
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() &&
        (st.st_mode & S_IWOTH) == 0 &&
        // Exclusive attached lock: nobody is attached. Held until close(), so an opener that
        // comes now waits for us and then finds the new region.
        try_lock_exclusive(fd, attached_lock_byte) && !being_created(fd, st, init_timeout) &&
        still_named(where, st)) {
        removed = remove_region(where);
    }
    ::close(fd);
    return removed;
}

}  // namespace shmrec::detail
