// POSIX shared objects (platform/shared_object.hpp): shm_open / open with O_NOFOLLOW, fstat
// identity and trust checks, posix_fallocate.
#include "platform/shared_object.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "platform/system_error.hpp"
#include "region_names.hpp"
#include "shmrec/detail/fault.hpp"

namespace shmrec::platform {

namespace {

using detail::display_name;

// POSIX shared-memory names carry one leading '/', which Location names never have.
std::string shm_name(const Location& where) { return "/" + where.name; }

}  // namespace

OwnedHandle& OwnedHandle::operator=(OwnedHandle&& o) noexcept {
    if (this != &o) {
        if (h_ != no_handle) ::close(h_);
        h_ = o.release();
    }
    return *this;
}

OwnedHandle::~OwnedHandle() {
    if (h_ != no_handle) ::close(h_);
}

std::optional<OwnedHandle> create_file_exclusive(const Location& where, unsigned permissions) {
    OwnedHandle fd(::open(where.name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          static_cast<mode_t>(permissions)));
    if (!fd) {
        const int err = errno;
        if (err == EEXIST) return std::nullopt;
        throw_system_error(where, "open", err);
    }
    // The umask may have narrowed the mode; fchmod sets exactly what was asked.
    if (::fchmod(fd.get(), static_cast<mode_t>(permissions)) != 0) {
        const int err = errno;
        ::unlink(where.name.c_str());  // ours: created exclusively a moment ago
        throw_system_error(where, "fchmod", err);
    }
    return fd;
}

std::optional<OwnedHandle> open_file(const Location& where) {
    OwnedHandle fd(::open(where.name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
    if (fd) return fd;
    const int err = errno;
    if (err == ENOENT) return std::nullopt;
    if (err == ELOOP) {
        throw Error(ErrorCode::untrusted_region, where.name,
                    fmt::format("{} is a symbolic link; refusing to follow it",
                                display_name(where)));
    }
    throw_system_error(where, "open", err);
}

OwnedHandle open_existing(const Location& where, bool writable, int& native_error) noexcept {
    const int flags = (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC;
    int fd = -1;
    try {
        fd = where.backing == Backing::memory ? ::shm_open(shm_name(where).c_str(), flags, 0)
                                              : ::open(where.name.c_str(), flags);
    } catch (...) {  // std::bad_alloc from the name
        native_error = ENOMEM;
        return {};
    }
    native_error = fd < 0 ? errno : 0;
    return OwnedHandle(fd);
}

std::optional<ObjectId> identity(Handle h) noexcept {
    struct stat st {};
    if (::fstat(h, &st) != 0) return std::nullopt;
    return ObjectId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino), 0};
}

NameLookup::Result compare_with_name(const Location& where, const ObjectId& ours) noexcept {
    int err = 0;
    const OwnedHandle named = open_existing(where, false, err);
    if (!named) return err == ENOENT ? NameLookup::Result::absent : NameLookup::Result::unknown;
    const auto id = identity(named.get());
    if (!id) return NameLookup::Result::unknown;
    return *id == ours ? NameLookup::Result::same : NameLookup::Result::other;
}

std::optional<std::string> untrusted_reason(Handle h) {
    struct stat st {};
    if (::fstat(h, &st) != 0) return fmt::format("cannot be checked (fstat: {})", std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return std::string("is not a regular file");
    if (st.st_uid != ::geteuid()) {
        return fmt::format("is owned by uid {}, not by this user (uid {})", st.st_uid,
                           ::geteuid());
    }
    if ((st.st_mode & S_IWOTH) != 0) {
        return fmt::format("has mode {:04o}: anyone may write it", st.st_mode & 07777);
    }
    return std::nullopt;
}

std::uint64_t object_size(Handle h, const Location& where) {
    struct stat st {};
    if (::fstat(h, &st) != 0) throw_system_error(ErrorCode::system_error, where, "fstat", errno);
    return static_cast<std::uint64_t>(st.st_size);
}

// File systems without fallocate get a plain ftruncate (sparse: see docs/reliability.md R3).
void preallocate(Handle fd, std::uint64_t size, const Location& where) {
    // Growing a file past RLIMIT_FSIZE raises SIGXFSZ, which kills the process by default:
    // refuse first, with the same error a full file system gives.
    struct rlimit limit {};
    if (::getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
        size > limit.rlim_cur) {
        throw Error(ErrorCode::no_space, where.name,
                    fmt::format("{}: {} bytes exceed this process's file size limit "
                                "(RLIMIT_FSIZE, {} bytes)",
                                display_name(where), size, limit.rlim_cur));
    }
    int rc;
    do {
        rc = SHMREC_FAULT_ERRNO("create.fallocate");
        if (rc == 0) rc = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
    } while (rc == EINTR);
    if (rc == 0) return;
    if (rc == EOPNOTSUPP || rc == EINVAL) {
        if (::ftruncate(fd, static_cast<off_t>(size)) == 0) return;
        rc = errno;
    }
    if (rc == ENOSPC || rc == EFBIG) {
        throw Error(ErrorCode::no_space, where.name,
                    fmt::format("{}: no space for {} bytes ({})", display_name(where), size,
                                std::strerror(rc)));
    }
    throw_system_error(where, "posix_fallocate", rc);
}

bool read_at(Handle h, std::uint64_t offset, void* out, std::size_t size) noexcept {
    const auto n = ::pread(h, out, size, static_cast<off_t>(offset));
    return n == static_cast<ssize_t>(size);
}

std::optional<std::chrono::nanoseconds> age(Handle h) noexcept {
    struct stat st {};
    if (::fstat(h, &st) != 0) return std::nullopt;
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return std::chrono::seconds(now.tv_sec - st.st_ctim.tv_sec) +
           std::chrono::nanoseconds(now.tv_nsec - st.st_ctim.tv_nsec);
}

bool remove_name(const Location& where) noexcept {
    try {
        if (where.backing == Backing::memory) return ::shm_unlink(shm_name(where).c_str()) == 0;
        return ::unlink(where.name.c_str()) == 0;
    } catch (...) {
        return false;
    }
}

}  // namespace shmrec::platform
