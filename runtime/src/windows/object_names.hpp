// Internal (Windows platform layer): names of the kernel objects that go with a region.
//
// A memory-backed region is the file-mapping object named exactly as the user named it
// ("TestMemShare", "Local\TestMemShare" or "Global\TestMemShare"; the first two are the same
// session-local object). Its lock-slot tokens and wake events live in the same namespace,
// under "<ns>\shmrec#<name>#": Windows gives events, mutexes, semaphores and mappings one
// namespace, and '#' is never in a region name, so they cannot meet a region's name. A
// file-backed region has no object name of its own: its companions are named after the
// file's identity (volume serial number and 128-bit file id), "Global\shmrec#file#<volume>#<id>#",
// so every path to the same file finds them, from every session (creating Global\ events
// needs no privilege; only Global\ file mappings do). The file's own named mapping object is
// "Local\shmrec#file#<volume>#<id>#map": session-local, because a Global\ file mapping needs
// SeCreateGlobalPrivilege, and one per session is enough: views of one file are coherent
// whichever mapping object they come from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "platform/handle.hpp"
#include "shmrec/region.hpp"

namespace shmrec::platform::windows {

// UTF-8 to UTF-16, for the W functions (region names and paths are UTF-8 strings).
std::wstring widen(std::string_view utf8);

// The namespace prefix of a memory region's name: "Global\" for a Global\ name, "Local\"
// otherwise (a plain name is session-local, as Local\ is).
std::string_view name_space(const std::string& name) noexcept;
// The name without its Local\ or Global\ prefix.
std::string_view bare_name(const std::string& name) noexcept;

// A file's identity: its volume serial number and its file id. The 128-bit id of FileIdInfo
// (GetFileInformationByHandleEx) where the file system gives one (NTFS, ReFS, and Wine 8), else
// the 64-bit file index of GetFileInformationByHandle (which ReFS truncates and FAT may reuse).
struct FileIdentity {
    std::uint64_t volume = 0;
    std::uint64_t id_low = 0;
    std::uint64_t id_high = 0;
};
// Empty when the OS answers neither query (GetLastError() says why).
std::optional<FileIdentity> file_identity(Handle file) noexcept;

// The common prefix of a region's companion objects, ending in '#'. Throws Error when a file
// region's identity cannot be read.
std::wstring companion_prefix(Handle object, const Location& where);

// The name of the file-mapping object of the region file open as `file` (see above). Throws
// Error when its identity cannot be read.
std::wstring file_mapping_name(Handle file, const Location& where);

}  // namespace shmrec::platform::windows
