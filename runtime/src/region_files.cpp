// The file side of a region: names, trust checks on an existing file, pre-allocation, and
// turning errno into shmrec errors.
#include "region_files.hpp"

#include "shmrec/detail/fault.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace shmrec {

namespace {
constexpr std::size_t max_shm_name = 200;  // well inside NAME_MAX (255) with room for a prefix
}  // namespace

namespace detail {

std::string display_name(const Location& where) {
    return where.backing == Backing::memory ? fmt::format("region '{}'", where.name)
                                            : fmt::format("region file '{}'", where.name);
}

std::uint64_t os_page_size() {
    static const auto size = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

void throw_errno(ErrorCode code, const Location& where, std::string_view doing, int err) {
    throw Error(code, where.name,
                fmt::format("{}: {} failed: {}", display_name(where), doing, std::strerror(err)));
}

ErrorCode code_for_errno(int err) {
    switch (err) {
        case ENOENT: return ErrorCode::not_found;
        case EEXIST: return ErrorCode::already_exists;
        case EACCES:
        case EPERM: return ErrorCode::permission_denied;
        case ELOOP: return ErrorCode::untrusted_region;  // O_NOFOLLOW met a symlink
        case ENOSPC:
        case EFBIG:
        case ENOMEM: return ErrorCode::no_space;
        case ENAMETOOLONG: return ErrorCode::invalid_name;
        default: return ErrorCode::system_error;
    }
}

// Refuses what no region of ours looks like: a non-regular file (a symlink was already refused
// by O_NOFOLLOW), another owner, or a mode anyone may write (name squatting, S3).
void check_trusted(int fd, const Location& where) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno(ErrorCode::system_error, where, "fstat", errno);
    if (!S_ISREG(st.st_mode)) {
        throw Error(ErrorCode::untrusted_region, where.name,
                    fmt::format("{} is not a regular file", display_name(where)));
    }
    if (st.st_uid != ::geteuid()) {
        throw Error(ErrorCode::untrusted_region, where.name,
                    fmt::format("{} is owned by uid {}, not by this user (uid {})",
                                display_name(where), st.st_uid, ::geteuid()));
    }
    if ((st.st_mode & S_IWOTH) != 0) {
        throw Error(ErrorCode::untrusted_region, where.name,
                    fmt::format("{} has mode {:04o}: anyone may write it", display_name(where),
                                st.st_mode & 07777));
    }
}

std::uint64_t file_size(int fd, const Location& where) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno(ErrorCode::system_error, where, "fstat", errno);
    return static_cast<std::uint64_t>(st.st_size);
}

// Reserves every page now, so a full /dev/shm is ENOSPC here rather than SIGBUS at first
// touch. File systems without fallocate get a plain ftruncate (sparse: see docs).
void preallocate(int fd, std::uint64_t size, const Location& where) {
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
    throw_errno(code_for_errno(rc), where, "posix_fallocate", rc);
}

// The name is taken and was not stale: say precisely by what.
void throw_existing(const Location& where) {
    const std::string shown = display_name(where);
    const int fd = where.backing == Backing::memory
                       ? ::shm_open(("/" + where.name).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0)
                       : ::open(where.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ELOOP) {
        throw Error(ErrorCode::untrusted_region, where.name,
                    fmt::format("{} is taken by a symbolic link; refusing to follow it", shown));
    }
    if (fd >= 0) {
        struct stat st {};
        const bool ok = ::fstat(fd, &st) == 0;
        ::close(fd);
        if (ok && (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
                   (st.st_mode & S_IWOTH) != 0)) {
            throw Error(ErrorCode::untrusted_region, where.name,
                        fmt::format("{} is taken by a file that is not ours (owner uid {}, "
                                    "mode {:04o})",
                                    shown, st.st_uid, st.st_mode & 07777));
        }
    }
    throw Error(ErrorCode::already_exists, where.name,
                fmt::format("{} already exists and is in use (open it instead, or stop its "
                            "users first)",
                            shown));
}

}  // namespace detail

void validate_location(const Location& where) {
    const std::string& n = where.name;
    auto bad = [&](std::string_view why) {
        std::string shown;
        for (char c : n.substr(0, 64)) {
            shown += (c >= 0x20 && c < 0x7f) ? c : '?';
        }
        throw Error(ErrorCode::invalid_name, n,
                    fmt::format("invalid region {} '{}': {}",
                                where.backing == Backing::memory ? "name" : "path", shown, why));
    };
    if (n.empty()) bad("it is empty");
    if (n.find('\0') != std::string::npos) bad("it contains a NUL byte");
    if (where.backing == Backing::file) {
        if (n.size() >= 4096) bad("longer than 4095 bytes");
        if (n.back() == '/') bad("it names a directory");
        return;
    }
    if (n.size() > max_shm_name) bad(fmt::format("longer than {} characters", max_shm_name));
    if (n.front() == '.') bad("it starts with '.'");
    for (char c : n) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) bad("only letters, digits, '_', '-' and '.' are allowed");
    }
}

}  // namespace shmrec
