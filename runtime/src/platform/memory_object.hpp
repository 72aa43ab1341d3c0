// Internal (platform layer): the objects the mapping layer (boost::interprocess::mapped_region)
// maps. A memory-backed region: POSIX, Boost's shared-memory object (/dev/shm), created empty
// and sized by preallocate(); Windows, a named file-mapping object backed by the paging file,
// sized when it is created, living while any process holds a handle to it. A file-backed
// region: a mapping of shmrec's own handle to the file (FileMapping below), never a second
// open of the path.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

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

// File backing: what maps the region file open as `file` (create_file_exclusive, open_file).
// Mapping from that handle, not from a second open of the path, means the mapping is of the
// file whose identity, owner and locks were checked, and that a path the ANSI code page cannot
// spell works (Boost's file_mapping opens with CreateFileA on Windows).
#if defined(_WIN32)
// A named file-mapping object over the file, "Local\shmrec#file#<volume>#<file id>#map"
// (windows/object_names.hpp): created by the first participant of this session, opened by the
// others, living while any of them holds it. A type of its own only to be told apart from a
// memory region's object (std::variant in region.cpp).
class FileMapping : public MemoryObject {
public:
    explicit FileMapping(MemoryObject&& object) noexcept : MemoryObject(std::move(object)) {}
};
#else
// POSIX maps the descriptor itself; this only lends it to mapped_region (it closes nothing).
class FileMapping {
public:
    explicit FileMapping(Handle fd) noexcept : fd_(fd) {}
    boost::interprocess::mapping_handle_t get_mapping_handle() const noexcept {
        boost::interprocess::mapping_handle_t h;
        h.handle = fd_;
        h.is_xsi = false;
        return h;
    }
    boost::interprocess::mode_t get_mode() const noexcept { return boost::interprocess::read_write; }

private:
    Handle fd_;
};
#endif

// The mapping object of the region file open as `file` at `where`. `permissions` are the
// creator's RegionOptions::permissions (empty for an opener): Windows gives them to the
// mapping object when it is the first to make it. Throws Error when the OS refuses, and
// untrusted_region when the object at the mapping's name is not a view of a file owned by
// this user.
FileMapping map_file_object(Handle file, const Location& where,
                            std::optional<unsigned> permissions);

}  // namespace shmrec::platform
