// Internal (Windows platform layer): names of the kernel objects that go with a region.
//
// A memory-backed region is the file-mapping object named exactly as the user named it
// ("TestMemShare", "Local\TestMemShare" or "Global\TestMemShare"; the first two are the same
// session-local object). Its lock-slot tokens and wake events live in the same namespace,
// under "<ns>\shmrec.<name>.": Windows gives events, mutexes, semaphores and mappings one
// namespace, and a region name never contains the '.' + tag suffixes we add, so they cannot
// meet the user's own names by accident. A file-backed region has no object name of its own:
// its companions are named after the file's identity (volume serial number and file index),
// "Local\shmrec.file.<volume>.<index>.", so every path to the same file finds them.
#pragma once

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

// The common prefix of a region's companion objects, ending in '.'. Throws Error when a file
// region's identity cannot be read.
std::wstring companion_prefix(Handle object, const Location& where);

}  // namespace shmrec::platform::windows
