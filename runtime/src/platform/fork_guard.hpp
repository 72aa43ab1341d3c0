// Internal (platform layer): what a child made by fork() must not inherit. The handles and
// mappings of every region are registered here; in a forked child each handle is pointed at
// /dev/null and each mapping replaced by an inaccessible one of the same size, so the child
// holds none of the parent's locks, and detail::fork_generation() moves on (the public half,
// shmrec/detail/fork_guard.hpp, is what the channel templates see). Windows has no fork():
// its implementation does nothing.
#pragma once

#include <cstddef>

#include "platform/handle.hpp"

namespace shmrec::platform {

// Install the fork handlers once, then register or forget.
void track_handle(Handle h);
void untrack_handle(Handle h) noexcept;
void track_mapping(void* address, std::size_t size);
void untrack_mapping(void* address) noexcept;

}  // namespace shmrec::platform
