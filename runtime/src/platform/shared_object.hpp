// Internal (platform layer): the named object behind a region — a POSIX shared-memory object
// or a file. What Boost.Interprocess (the mapping layer) does not offer: exclusive creation
// that never follows a link, trust checks, pre-allocation, and an identity that lets a process
// tell "the object I opened is still the one at the name".
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "platform/handle.hpp"
#include "shmrec/region.hpp"

namespace shmrec::platform {

// Identifies one object, not one name: (st_dev, st_ino) on POSIX; (volume serial, 128-bit file
// id) on Windows (index_high is 0 on POSIX). A name removed and created again leads to another
// identity.
struct ObjectId {
    std::uint64_t device = 0;
    std::uint64_t index = 0;
    std::uint64_t index_high = 0;
    friend bool operator==(const ObjectId&, const ObjectId&) = default;
};

// A handle that closes itself.
class OwnedHandle {
public:
    OwnedHandle() = default;
    explicit OwnedHandle(Handle h) noexcept : h_(h) {}
    OwnedHandle(OwnedHandle&& o) noexcept : h_(o.release()) {}
    OwnedHandle& operator=(OwnedHandle&& o) noexcept;
    OwnedHandle(const OwnedHandle&) = delete;
    OwnedHandle& operator=(const OwnedHandle&) = delete;
    ~OwnedHandle();
    Handle get() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != no_handle; }
    Handle release() noexcept {
        const Handle h = h_;
        h_ = no_handle;
        return h;
    }

private:
    Handle h_ = no_handle;
};

// File backing: creates `where` exclusively (never following a symbolic link), close-on-exec,
// with exactly `permissions` whatever the umask. Empty when the name is taken; throws
// Error for anything else (and leaves no file behind).
std::optional<OwnedHandle> create_file_exclusive(const Location& where, unsigned permissions);

// File backing: opens an existing region file read-write, never following a link
// (untrusted_region for a link). Empty when the name does not exist.
std::optional<OwnedHandle> open_file(const Location& where);

// Either backing: opens the object at the name without throwing (never following a link), for
// probes. On failure the handle is empty and `native_error` says why.
OwnedHandle open_existing(const Location& where, bool writable, int& native_error) noexcept;

// The identity of an open object; empty if the OS cannot say.
std::optional<ObjectId> identity(Handle h) noexcept;

// What the name leads to now.
struct NameLookup {
    enum class Result : std::uint8_t { same, absent, other, unknown } result = Result::unknown;
};
// Compares the object at `where` now with `ours` (absent: nothing at the name; unknown: the OS
// would not say, e.g. permission denied).
NameLookup::Result compare_with_name(const Location& where, const ObjectId& ours) noexcept;

// Why an object is not one shmrec would have made (not a regular file, another owner, a mode
// anyone may write: name squatting), or empty when it is trustworthy.
std::optional<std::string> untrusted_reason(Handle h);

// Size of the object in bytes (Error{system_error} when the OS cannot say).
std::uint64_t object_size(Handle h, const Location& where);

// Reserves every byte now, so a full /dev/shm is no_space at creation rather than SIGBUS at
// first touch. Refuses sizes beyond the process's file size limit. Fault site:
// create.fallocate.
void preallocate(Handle h, std::uint64_t size, const Location& where);

// Reads `size` bytes at `offset` without mapping; false on a short read or an error.
bool read_at(Handle h, std::uint64_t offset, void* out, std::size_t size) noexcept;

// Time since the object was created or last changed its metadata (wall clock; a clock step
// shifts it). Empty if the OS cannot say.
std::optional<std::chrono::nanoseconds> age(Handle h) noexcept;

// Removes the name (the object lives on while anyone maps or holds it). False when there was
// nothing to remove or the OS refused.
bool remove_name(const Location& where) noexcept;

}  // namespace shmrec::platform
