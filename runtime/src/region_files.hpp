// Internal: the file side of a region (see region_files.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "shmrec/error.hpp"
#include "shmrec/region.hpp"

namespace shmrec::detail {

// "region 'name'" or "region file 'path'", for messages.
std::string display_name(const Location& where);
std::uint64_t os_page_size();

ErrorCode code_for_errno(int err);
[[noreturn]] void throw_errno(ErrorCode code, const Location& where, std::string_view doing,
                              int err);

// Refuses what no region of ours looks like: a non-regular file (a symlink was already refused
// by O_NOFOLLOW), another owner, or a mode anyone may write (name squatting).
void check_trusted(int fd, const Location& where);
std::uint64_t file_size(int fd, const Location& where);

// Reserves every page now, so a full /dev/shm is ENOSPC at creation rather than SIGBUS at
// first touch.
void preallocate(int fd, std::uint64_t size, const Location& where);

// The name is taken and was not stale: throws untrusted_region or already_exists, saying why.
[[noreturn]] void throw_existing(const Location& where);

}  // namespace shmrec::detail
