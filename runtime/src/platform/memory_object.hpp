// Internal (platform layer): the named object behind a memory-backed region, as the
// Boost.Interprocess object the mapping layer maps. POSIX: a shared-memory object (/dev/shm),
// created empty and sized by preallocate(). Windows: a named file-mapping object backed by the
// paging file, sized when it is created, living while any process holds a handle to it.
#pragma once

#include <cstdint>
#include <optional>

#if defined(_WIN32)
#include <boost/interprocess/windows_shared_memory.hpp>
#else
#include <boost/interprocess/shared_memory_object.hpp>
#endif

#include "platform/handle.hpp"
#include "shmrec/region.hpp"

namespace shmrec::platform {

#if defined(_WIN32)
using MemoryObject = boost::interprocess::windows_shared_memory;
#else
using MemoryObject = boost::interprocess::shared_memory_object;
#endif

// Creates the object exclusively, read-write, for a region of `size` bytes, accessible as
// RegionOptions::permissions says (owner/group/others bits). Empty when the name is taken by
// an object of the same kind; throws Error for anything else (another kind of object at the
// name, a missing privilege, no memory).
std::optional<MemoryObject> create_memory_object(const Location& where, std::uint64_t size,
                                                 unsigned permissions);

// Opens the existing object read-write (readers write their board page; their view of the
// records is mapped read-only). Empty when nothing is at the name; throws Error otherwise.
std::optional<MemoryObject> open_memory_object(const Location& where);

// The object's handle, for the rest of the platform layer.
Handle handle_of(const MemoryObject& object) noexcept;

}  // namespace shmrec::platform
