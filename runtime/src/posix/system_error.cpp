// POSIX: errno turned into shmrec errors (platform/system_error.hpp).
#include "platform/system_error.hpp"

#include <cerrno>
#include <cstring>

namespace shmrec::platform {

int last_error() noexcept { return errno; }

ErrorCode error_code_for(int err) noexcept {
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

bool is_not_found(int err) noexcept { return err == ENOENT; }

std::string describe_error(int err) { return std::strerror(err); }

}  // namespace shmrec::platform
