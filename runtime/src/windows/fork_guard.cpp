// Windows has no fork(): a child process starts from its own image and inherits no region
// handle (none is inheritable) and no mapping. Nothing to track (platform/fork_guard.hpp).
#include "platform/fork_guard.hpp"

namespace shmrec::platform {

void track_handle(Handle) {}
void untrack_handle(Handle) noexcept {}
void track_mapping(void*, std::size_t) {}
void untrack_mapping(void*) noexcept {}

}  // namespace shmrec::platform
