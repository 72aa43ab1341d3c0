// Internal (platform layer): the named object behind a memory-backed region, as an object the
// mapping layer (boost::interprocess::mapped_region) maps. POSIX: Boost's shared-memory object
// (/dev/shm), created empty and sized by preallocate(). Windows: a named file-mapping object
// backed by the paging file, sized when it is created, living while any process holds a
// handle to it.
#pragma once

#include <cstdint>
#include <optional>

#if defined(_WIN32)
#include <boost/interprocess/detail/os_file_functions.hpp>
#else
#include <boost/interprocess/shared_memory_object.hpp>
#endif

#include "platform/handle.hpp"
#include "shmrec/region.hpp"

namespace shmrec::platform {

#if defined(_WIN32)
// An open file-mapping object, in the shape mapped_region maps (get_mapping_handle,
// get_mode). Not Boost's windows_shared_memory: it opens an existing object without
// FILE_MAP_READ, with which a reader could not map its read-only view.
class MemoryObject {
public:
    explicit MemoryObject(void* handle) noexcept : handle_(handle) {}
    MemoryObject(MemoryObject&& o) noexcept : handle_(o.handle_) { o.handle_ = nullptr; }
    MemoryObject& operator=(MemoryObject&& o) noexcept;
    MemoryObject(const MemoryObject&) = delete;
    MemoryObject& operator=(const MemoryObject&) = delete;
    ~MemoryObject();

    boost::interprocess::mapping_handle_t get_mapping_handle() const noexcept {
        return {handle_, true};  // a mapping object itself, not a file to make one from
    }
    boost::interprocess::mode_t get_mode() const noexcept { return boost::interprocess::read_write; }

private:
    void* handle_ = nullptr;
};
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
