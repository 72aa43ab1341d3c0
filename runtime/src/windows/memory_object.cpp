// Windows memory objects (platform/memory_object.hpp): named file-mapping objects backed by
// the paging file, through Boost's windows_shared_memory.
#include "platform/memory_object.hpp"

#include <windows.h>

#include <boost/interprocess/exceptions.hpp>

#include <fmt/format.h>

#include "platform/system_error.hpp"
#include "region_names.hpp"
#include "windows/object_names.hpp"
#include "windows/security.hpp"

namespace shmrec::platform {

namespace bip = boost::interprocess;
using detail::display_name;

namespace {

// Windows gives mappings, events, mutexes and semaphores one namespace: a name taken by
// another kind of object makes CreateFileMapping / OpenFileMapping fail with this.
[[noreturn]] void throw_other_kind(const Location& where) {
    throw Error(ErrorCode::not_a_region, where.name,
                fmt::format("{}: the name is taken by another kind of object (an event, mutex, "
                            "semaphore or job: Windows gives them one namespace with "
                            "file mappings)",
                            display_name(where)));
}

[[noreturn]] void throw_failure(const Location& where, std::string_view doing,
                                const bip::interprocess_exception& e) {
    const int err = e.get_native_error();
    if (err == ERROR_INVALID_HANDLE) throw_other_kind(where);
    if (err == ERROR_ACCESS_DENIED && windows::name_space(where.name) == "Global\\") {
        throw Error(ErrorCode::permission_denied, where.name,
                    fmt::format("{}: {} failed: access denied (a Global\\ object needs the "
                                "SeCreateGlobalPrivilege privilege to be created, and its "
                                "security must grant this user access)",
                                display_name(where), doing));
    }
    throw_system_error(where, doing, err, e.what());
}

// The owner of the object at the name, read through a handle of our own (Boost's handle has
// no READ_CONTROL). Held across Boost's open, so both are the same object.
class OwnerCheck {
public:
    explicit OwnerCheck(const Location& where)
        : handle_(::OpenFileMappingW(READ_CONTROL, FALSE, windows::widen(where.name).c_str())) {}
    OwnerCheck(const OwnerCheck&) = delete;
    OwnerCheck& operator=(const OwnerCheck&) = delete;
    ~OwnerCheck() {
        if (handle_ != nullptr) ::CloseHandle(handle_);
    }
    std::optional<std::string> foreign() const {
        if (handle_ == nullptr) return std::nullopt;  // gone, or no READ_CONTROL: Boost decides
        return windows::foreign_owner(handle_, windows::ObjectKind::kernel_object);
    }

private:
    HANDLE handle_;
};

}  // namespace

std::optional<MemoryObject> create_memory_object(const Location& where, std::uint64_t size,
                                                 unsigned permissions) {
    auto security = windows::SecurityAttributes::for_region(permissions);
    if (security.get() == nullptr) {
        throw_system_error(ErrorCode::system_error, where, "building its security descriptor",
                           static_cast<int>(::GetLastError()));
    }
    try {
        return MemoryObject(bip::create_only, where.name.c_str(), bip::read_write,
                            static_cast<std::size_t>(size), bip::permissions(security.get()));
    } catch (const bip::interprocess_exception& e) {
        if (e.get_error_code() == bip::already_exists_error ||
            e.get_native_error() == ERROR_ALREADY_EXISTS) {
            return std::nullopt;
        }
        throw_failure(where, "CreateFileMapping", e);
    }
}

std::optional<MemoryObject> open_memory_object(const Location& where) {
    const OwnerCheck owner(where);
    try {
        MemoryObject object(bip::open_only, where.name.c_str(), bip::read_write);
        if (const auto why = owner.foreign()) {
            throw Error(ErrorCode::untrusted_region, where.name,
                        fmt::format("{} {}", display_name(where), *why));
        }
        return object;
    } catch (const bip::interprocess_exception& e) {
        if (is_not_found(e.get_native_error()) || e.get_error_code() == bip::not_found_error) {
            return std::nullopt;
        }
        throw_failure(where, "OpenFileMapping", e);
    }
}

Handle handle_of(const MemoryObject& object) noexcept {
    return object.get_mapping_handle().handle;
}

}  // namespace shmrec::platform
