// Windows: keeps a memory region's file-mapping object alive after the test closed the region.
//
// A Linux memory region is a file in /dev/shm that stays until it is removed; a Windows one is
// a named file-mapping object backed by the paging file that vanishes with its last handle. A
// test that creates a region, closes it and then looks at (or damages) what is left calls
// keep_alive(name) while the region is still open: the object then lives until
// release_kept_objects(), which RegionFixture::TearDown calls. On Linux both do nothing.
//
// The object's name is the region's name (object_name()): the runtime creates memory regions
// as file-mapping objects under exactly the name it is given (plain: session-local; "Local\",
// "Global\" prefixes honoured). No GoogleTest here: peer programs may include it too.
#pragma once

#include <string>

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <mutex>
#include <stdexcept>
#include <system_error>
#include <vector>
#endif

namespace shmrec_test {

#if defined(_WIN32)

// The name of the file-mapping object behind memory region `region`, as a wide string.
inline std::wstring object_name(const std::string& region) {
    if (region.empty()) return {};
    const int n = ::MultiByteToWideChar(CP_UTF8, 0, region.data(),
                                        static_cast<int>(region.size()), nullptr, 0);
    std::wstring w(static_cast<std::size_t>(n), L'\0');
    ::MultiByteToWideChar(CP_UTF8, 0, region.data(), static_cast<int>(region.size()), w.data(),
                          n);
    return w;
}

namespace detail {
struct KeptObjects {
    std::mutex mutex;
    std::vector<HANDLE> handles;
};
inline KeptObjects& kept_objects() {
    static KeptObjects kept;
    return kept;
}
}  // namespace detail

// Holds `h` (a handle to a file-mapping object) until release_kept_objects().
inline void keep_handle(HANDLE h) {
    auto& kept = detail::kept_objects();
    const std::lock_guard<std::mutex> lock(kept.mutex);
    kept.handles.push_back(h);
}

// Keeps the memory region `region` (open now, by this or another process) alive.
inline void keep_alive(const std::string& region) {
    const HANDLE h = ::OpenFileMappingW(FILE_MAP_READ, FALSE, object_name(region).c_str());
    if (h == nullptr) {
        throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(),
                                "OpenFileMapping " + region);
    }
    keep_handle(h);
}

// Lets every kept object go (each vanishes now unless a region still has it open).
inline void release_kept_objects() {
    auto& kept = detail::kept_objects();
    const std::lock_guard<std::mutex> lock(kept.mutex);
    for (HANDLE h : kept.handles) ::CloseHandle(h);
    kept.handles.clear();
}

#else

// A memory region outlives its last handle on Linux (/dev/shm/<name> until removed).
inline void keep_alive(const std::string&) {}
inline void release_kept_objects() {}

#endif

}  // namespace shmrec_test
