// Windows: GetLastError() codes turned into shmrec errors (platform/system_error.hpp).
#include "platform/system_error.hpp"

#include <windows.h>

#include <fmt/format.h>

namespace shmrec::platform {

int last_error() noexcept { return static_cast<int>(::GetLastError()); }

ErrorCode error_code_for(int err) noexcept {
    switch (static_cast<DWORD>(err)) {
        case ERROR_FILE_NOT_FOUND:
        case ERROR_PATH_NOT_FOUND: return ErrorCode::not_found;
        case ERROR_ALREADY_EXISTS:
        case ERROR_FILE_EXISTS: return ErrorCode::already_exists;
        case ERROR_ACCESS_DENIED:
        case ERROR_PRIVILEGE_NOT_HELD: return ErrorCode::permission_denied;
        case ERROR_NOT_ENOUGH_MEMORY:
        case ERROR_OUTOFMEMORY:
        case ERROR_COMMITMENT_LIMIT:
        case ERROR_DISK_FULL:
        case ERROR_HANDLE_DISK_FULL: return ErrorCode::no_space;
        case ERROR_INVALID_NAME:
        case ERROR_FILENAME_EXCED_RANGE:
        case ERROR_BAD_PATHNAME: return ErrorCode::invalid_name;
        default: return ErrorCode::system_error;
    }
}

bool is_not_found(int err) noexcept {
    return err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND;
}

std::string describe_error(int err) {
    char* text = nullptr;
    const DWORD n = ::FormatMessageA(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, static_cast<DWORD>(err), 0, reinterpret_cast<char*>(&text), 0, nullptr);
    std::string message = n != 0 && text != nullptr ? std::string(text, n) : std::string();
    if (text != nullptr) ::LocalFree(text);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r' ||
                                message.back() == ' ' || message.back() == '.')) {
        message.pop_back();
    }
    if (message.empty()) return fmt::format("Windows error {}", err);
    return fmt::format("{} (Windows error {})", message, err);
}

}  // namespace shmrec::platform
