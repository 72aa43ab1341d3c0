// Internal: the operating system's handle to an open region object (platform layer).
//
// The platform layer (runtime/src/platform/*.hpp) is one small interface per OS concept:
// shared_object.hpp (the named object behind a region), lock_slots.hpp (role and liveness
// locks), process.hpp (process identity, clocks), fork_guard.hpp (what a forked child must not
// inherit), system_error.hpp (native error codes). Each is implemented once per OS under
// runtime/src/<os>/ (posix/ today). Boost.Interprocess stays the mapping layer; the platform
// layer supplies what Boost lacks. Nothing above this line calls the OS directly.
#pragma once

namespace shmrec::platform {

#if defined(_WIN32)
using Handle = void*;  // a Win32 HANDLE
inline const Handle no_handle = nullptr;
#else
using Handle = int;  // a file descriptor
inline constexpr Handle no_handle = -1;
#endif

}  // namespace shmrec::platform
