// Windows shared objects (platform/shared_object.hpp): region files through CreateFileW (never
// through a reparse point; removed so that the name is free at once, see delete_now), and the
// queries on a region's handle, which is a file or a
// file-mapping object (a memory region). A file-mapping object lives exactly as long as some
// process holds a handle to it: its name cannot be removed, nor given to another object while
// we hold ours, and it can never be stale.
#include "platform/shared_object.hpp"

#include <windows.h>

#include <boost/interprocess/detail/win32_api.hpp>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "platform/system_error.hpp"
#include "region_names.hpp"
#include "windows/object_names.hpp"
#include "windows/security.hpp"

namespace shmrec::platform {

namespace {

using detail::display_name;

constexpr DWORD share_all = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

// A region's handle is a file or a file-mapping object (GetFileType cannot tell them apart
// under Wine); NtQuerySection answers for a mapping object only.
bool is_mapping_object(Handle h) noexcept {
    __int64 size = 0;
    return boost::interprocess::winapi::get_file_mapping_size(h, size);
}
bool is_file(Handle h) noexcept { return !is_mapping_object(h); }

// Every file-mapping object has this identity: while we hold it, the name cannot lead to
// another one, so "the same object as at the name" is "something is at the name".
constexpr ObjectId mapping_object_id{~std::uint64_t{0}, ~std::uint64_t{0}, ~std::uint64_t{0}};

HANDLE open_path(const Location& where, DWORD access) noexcept {
    try {
        return ::CreateFileW(windows::widen(where.name).c_str(), access, share_all, nullptr,
                             OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT,
                             nullptr);
    } catch (...) {  // std::bad_alloc from the name
        ::SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return INVALID_HANDLE_VALUE;
    }
}

HANDLE valid_or_null(HANDLE h) noexcept { return h == INVALID_HANDLE_VALUE ? nullptr : h; }

bool is_reparse_point(HANDLE h) noexcept {
    BY_HANDLE_FILE_INFORMATION info{};
    return ::GetFileInformationByHandle(h, &info) &&
           (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
}

}  // namespace

OwnedHandle& OwnedHandle::operator=(OwnedHandle&& o) noexcept {
    if (this != &o) {
        if (h_ != no_handle) ::CloseHandle(h_);
        h_ = o.release();
    }
    return *this;
}

OwnedHandle::~OwnedHandle() {
    if (h_ != no_handle) ::CloseHandle(h_);
}

std::optional<OwnedHandle> create_file_exclusive(const Location& where, unsigned permissions) {
    auto security = windows::SecurityAttributes::for_region(permissions);
    if (security.get() == nullptr) {
        throw_system_error(ErrorCode::system_error, where, "building its security descriptor",
                           static_cast<int>(::GetLastError()));
    }
    // CREATE_NEW fails on anything at the path, a symbolic link included: never followed.
    const HANDLE h = ::CreateFileW(windows::widen(where.name).c_str(), GENERIC_READ | GENERIC_WRITE,
                                   share_all, security.get(), CREATE_NEW, FILE_ATTRIBUTE_NORMAL,
                                   nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        const DWORD err = ::GetLastError();
        if (err == ERROR_FILE_EXISTS || err == ERROR_ALREADY_EXISTS) return std::nullopt;
        throw_system_error(where, "CreateFile", static_cast<int>(err));
    }
    return OwnedHandle(h);
}

std::optional<OwnedHandle> open_file(const Location& where) {
    OwnedHandle h(valid_or_null(open_path(where, GENERIC_READ | GENERIC_WRITE | READ_CONTROL)));
    if (!h) {
        const int err = last_error();
        if (is_not_found(err)) return std::nullopt;
        throw_system_error(where, "CreateFile", err);
    }
    if (is_reparse_point(h.get())) {
        throw Error(ErrorCode::untrusted_region, where.name,
                    fmt::format("{} is a symbolic link or another reparse point; refusing to "
                                "follow it",
                                display_name(where)));
    }
    return h;
}

OwnedHandle open_existing(const Location& where, bool writable, int& native_error) noexcept {
    HANDLE h = nullptr;
    if (where.backing == Backing::memory) {
        try {
            const DWORD access =
                FILE_MAP_READ | (writable ? FILE_MAP_WRITE : 0) | SECTION_QUERY | READ_CONTROL;
            h = ::OpenFileMappingW(access, FALSE, windows::widen(where.name).c_str());
        } catch (...) {
            ::SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        }
    } else {
        h = valid_or_null(
            open_path(where, GENERIC_READ | (writable ? GENERIC_WRITE : 0) | READ_CONTROL));
    }
    native_error = h == nullptr ? last_error() : 0;
    return OwnedHandle(h);
}

std::optional<ObjectId> identity(Handle h) noexcept {
    if (!is_file(h)) return mapping_object_id;
    const auto id = windows::file_identity(h);
    if (!id) return std::nullopt;
    return ObjectId{id->volume, id->id_low, id->id_high};
}

NameLookup::Result compare_with_name(const Location& where, const ObjectId& ours) noexcept {
    int err = 0;
    const OwnedHandle named = open_existing(where, false, err);
    if (!named) return is_not_found(err) ? NameLookup::Result::absent : NameLookup::Result::unknown;
    const auto id = identity(named.get());
    if (!id) return NameLookup::Result::unknown;
    return *id == ours ? NameLookup::Result::same : NameLookup::Result::other;
}

std::optional<std::string> untrusted_reason(Handle h) {
    if (!is_file(h)) return windows::foreign_owner(h, windows::ObjectKind::kernel_object);
    if (is_reparse_point(h)) return std::string("is a symbolic link or another reparse point");
    return windows::foreign_owner(h, windows::ObjectKind::file);
}

std::uint64_t object_size(Handle h, const Location& where) {
    if (is_file(h)) {
        LARGE_INTEGER size{};
        if (!::GetFileSizeEx(h, &size)) {
            throw_system_error(ErrorCode::system_error, where, "GetFileSizeEx", last_error());
        }
        return static_cast<std::uint64_t>(size.QuadPart);
    }
    __int64 size = 0;  // what winapi::get_file_mapping_size (NtQuerySection) fills
    if (!boost::interprocess::winapi::get_file_mapping_size(h, size)) {
        throw_system_error(ErrorCode::system_error, where, "NtQuerySection", last_error());
    }
    return static_cast<std::uint64_t>(size);
}

// A file is extended to its size now (a full disk is no_space here, not an in-page error at
// first touch). A file-mapping object was sized, and its pages charged to the commit limit,
// when it was created.
void preallocate(Handle h, std::uint64_t size, const Location& where) {
    if (!is_file(h)) return;
    FILE_END_OF_FILE_INFO end{};
    end.EndOfFile.QuadPart = static_cast<LONGLONG>(size);
    if (::SetFileInformationByHandle(h, FileEndOfFileInfo, &end, sizeof end)) return;
    const int err = last_error();
    if (error_code_for(err) == ErrorCode::no_space) {
        throw Error(ErrorCode::no_space, where.name,
                    fmt::format("{}: no space for {} bytes ({})", display_name(where), size,
                                describe_error(err)));
    }
    throw_system_error(where, "SetFileInformationByHandle", err);
}

bool read_at(Handle h, std::uint64_t offset, void* out, std::size_t size) noexcept {
    if (is_file(h)) {
        OVERLAPPED at{};
        at.Offset = static_cast<DWORD>(offset);
        at.OffsetHigh = static_cast<DWORD>(offset >> 32);
        DWORD got = 0;
        return ::ReadFile(h, out, static_cast<DWORD>(size), &got, &at) && got == size;
    }
    const void* view = ::MapViewOfFile(h, FILE_MAP_READ, 0, 0, static_cast<SIZE_T>(offset + size));
    if (view == nullptr) return false;
    std::memcpy(out, static_cast<const char*>(view) + offset, size);
    ::UnmapViewOfFile(view);
    return true;
}

std::optional<std::chrono::nanoseconds> age(Handle h) noexcept {
    FILETIME written{};
    if (!is_file(h) || !::GetFileTime(h, nullptr, nullptr, &written)) return std::nullopt;
    FILETIME now{};
    ::GetSystemTimeAsFileTime(&now);
    auto units = [](const FILETIME& t) {
        return static_cast<std::int64_t>((static_cast<std::uint64_t>(t.dwHighDateTime) << 32) |
                                         t.dwLowDateTime);
    };
    return std::chrono::nanoseconds((units(now) - units(written)) * 100);
}

namespace {

// Deletes the file open as `h` (opened with DELETE access) so that its name is free at once,
// even while other processes still hold it. DeleteFileW alone cannot: where deletion is not
// POSIX-style (Windows before 10 1709, FAT, SMB, and Wine 8) the name stays "delete pending"
// until the last handle closes, and meanwhile CREATE_NEW at the path fails (Wine: as
// ERROR_FILE_EXISTS; it even lets OPEN_EXISTING open the dying file). So:
//  1. FileDispositionInfoEx with FILE_DISPOSITION_FLAG_POSIX_SEMANTICS: the name goes now
//     (NTFS on Windows 10 1709 and later; Wine 8 answers ERROR_INVALID_PARAMETER);
//  2. else rename the file away within its directory to a name nobody uses
//     ("<name>.shmrec-removed.<pid>.<n>") and then mark it delete-on-close: the region's name is
//     free at once, the renamed file vanishes with its last handle. (A delete-pending file
//     cannot be renamed any more, so the rename comes first.)
bool delete_now(HANDLE h, const Location& where) noexcept {
    FILE_DISPOSITION_INFO_EX posix{};
    posix.Flags = FILE_DISPOSITION_FLAG_DELETE | FILE_DISPOSITION_FLAG_POSIX_SEMANTICS;
    // FileDispositionInfoEx (21) is newer than MinGW's FILE_INFO_BY_HANDLE_CLASS.
    constexpr auto disposition_ex = static_cast<FILE_INFO_BY_HANDLE_CLASS>(21);
    if (::SetFileInformationByHandle(h, disposition_ex, &posix, sizeof posix)) return true;
    try {
        // A bare name renames within the file's directory (NtSetInformationFile's rule).
        const std::wstring path = windows::widen(where.name);
        const auto slash = path.find_last_of(L"\\/");
        const std::wstring leaf = slash == std::wstring::npos ? path : path.substr(slash + 1);
        static std::atomic<unsigned> counter{0};
        for (int attempt = 0; attempt < 16; ++attempt) {
            // Relaxed: only uniqueness within this process matters; the pid covers the rest.
            const std::wstring to = leaf + L".shmrec-removed." +
                                    std::to_wstring(::GetCurrentProcessId()) + L"." +
                                    std::to_wstring(counter.fetch_add(1, std::memory_order_relaxed));
            std::vector<unsigned char> buffer(sizeof(FILE_RENAME_INFO) + to.size() * sizeof(wchar_t));
            auto* rename = reinterpret_cast<FILE_RENAME_INFO*>(buffer.data());
            rename->ReplaceIfExists = FALSE;
            rename->RootDirectory = nullptr;
            rename->FileNameLength = static_cast<DWORD>(to.size() * sizeof(wchar_t));
            std::memcpy(rename->FileName, to.data(), rename->FileNameLength);
            if (!::SetFileInformationByHandle(h, FileRenameInfo, rename,
                                              static_cast<DWORD>(buffer.size()))) {
                const DWORD err = ::GetLastError();
                if (err == ERROR_ALREADY_EXISTS || err == ERROR_FILE_EXISTS) continue;
                return false;
            }
            FILE_DISPOSITION_INFO dispose{};
            dispose.DeleteFile = TRUE;
            if (::SetFileInformationByHandle(h, FileDispositionInfo, &dispose, sizeof dispose)) {
                return true;
            }
            // Cannot delete it: give the region its name back rather than leave it renamed.
            std::vector<unsigned char> back(sizeof(FILE_RENAME_INFO) + leaf.size() * sizeof(wchar_t));
            auto* undo = reinterpret_cast<FILE_RENAME_INFO*>(back.data());
            undo->FileNameLength = static_cast<DWORD>(leaf.size() * sizeof(wchar_t));
            std::memcpy(undo->FileName, leaf.data(), undo->FileNameLength);
            ::SetFileInformationByHandle(h, FileRenameInfo, undo, static_cast<DWORD>(back.size()));
            return false;
        }
    } catch (...) {  // std::bad_alloc
    }
    return false;
}

}  // namespace

bool remove_name(const Location& where) noexcept {
    if (where.backing == Backing::memory) return false;  // goes with its last handle
    // DELETE (and FILE_READ_ATTRIBUTES for the reparse check): the region's DACL gives DELETE
    // to its owner alone, as the sticky /dev/shm lets only the owner unlink on POSIX.
    OwnedHandle h(valid_or_null(open_path(where, DELETE | FILE_READ_ATTRIBUTES)));
    if (!h || is_reparse_point(h.get())) return false;
    return delete_now(h.get(), where);
}

}  // namespace shmrec::platform
