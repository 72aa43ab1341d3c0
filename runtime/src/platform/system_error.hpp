// Internal (platform layer): native error codes (errno on POSIX) turned into shmrec errors.
#pragma once

#include <string>
#include <string_view>

#include "shmrec/error.hpp"
#include "shmrec/region.hpp"

namespace shmrec::platform {

// The calling thread's last native error (errno / GetLastError()).
int last_error() noexcept;
// The ErrorCode a native error means (ENOENT: not_found, EACCES: permission_denied, ...).
ErrorCode error_code_for(int native_error) noexcept;
// True when the native error says the name does not exist.
bool is_not_found(int native_error) noexcept;
// The OS's own words for a native error (strerror / FormatMessage).
std::string describe_error(int native_error);

// Implemented once, in platform/system_error.cpp:
// Throws Error{code} "<region>: <doing> failed: <native message>".
[[noreturn]] void throw_system_error(ErrorCode code, const Location& where, std::string_view doing,
                                     int native_error);
// The same, with the code error_code_for(native_error).
[[noreturn]] void throw_system_error(const Location& where, std::string_view doing,
                                     int native_error);
// The same for a failure that may carry no native error (0: Boost.Interprocess found the
// problem itself): then Error{system_error} "<region>: <doing> failed: <what>".
[[noreturn]] void throw_system_error(const Location& where, std::string_view doing,
                                     int native_error, std::string_view what);

}  // namespace shmrec::platform
