// POSIX memory objects (platform/memory_object.hpp): Boost's shared_memory_object (shm_open).
#include "platform/memory_object.hpp"

#include <boost/interprocess/exceptions.hpp>

#include "platform/system_error.hpp"

namespace shmrec::platform {

namespace bip = boost::interprocess;

std::optional<MemoryObject> create_memory_object(const Location& where, std::uint64_t,
                                                 unsigned permissions) {
    try {
        // Boost fchmods the new object: exactly `permissions`, whatever the umask. It is sized
        // later (preallocate), after the creator holds its locks.
        bip::permissions perm;
        perm.set_permissions(static_cast<int>(permissions));
        return MemoryObject(bip::create_only, where.name.c_str(), bip::read_write, perm);
    } catch (const bip::interprocess_exception& e) {
        if (e.get_error_code() == bip::already_exists_error) return std::nullopt;
        throw_system_error(where, "shm_open", e.get_native_error(), e.what());
    }
}

std::optional<MemoryObject> open_memory_object(const Location& where) {
    try {
        return MemoryObject(bip::open_only, where.name.c_str(), bip::read_write);
    } catch (const bip::interprocess_exception& e) {
        if (is_not_found(e.get_native_error()) || e.get_error_code() == bip::not_found_error) {
            return std::nullopt;
        }
        throw_system_error(where, "shm_open", e.get_native_error(), e.what());
    }
}

Handle handle_of(const MemoryObject& object) noexcept {
    return object.get_mapping_handle().handle;
}

// mmap of the descriptor itself: nothing to create, nothing that can fail before the mmap.
FileMapping map_file_object(Handle file, const Location&, std::optional<unsigned>) {
    return FileMapping(file);
}

}  // namespace shmrec::platform
