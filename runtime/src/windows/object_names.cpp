// Names of a region's companion objects on Windows (windows/object_names.hpp).
#include "windows/object_names.hpp"

#include <windows.h>

#include <fmt/format.h>

#include "platform/system_error.hpp"

namespace shmrec::platform::windows {

namespace {
constexpr std::string_view global_prefix = "Global\\";
constexpr std::string_view local_prefix = "Local\\";
}  // namespace

std::wstring widen(std::string_view utf8) {
    if (utf8.empty()) return {};
    const int n = ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()),
                                        nullptr, 0);
    std::wstring out(static_cast<std::size_t>(n > 0 ? n : 0), L'\0');
    if (n > 0) {
        ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(),
                              n);
    }
    return out;
}

std::string_view name_space(const std::string& name) noexcept {
    return std::string_view(name).starts_with(global_prefix) ? global_prefix : local_prefix;
}

std::string_view bare_name(const std::string& name) noexcept {
    std::string_view n(name);
    if (n.starts_with(global_prefix)) n.remove_prefix(global_prefix.size());
    else if (n.starts_with(local_prefix)) n.remove_prefix(local_prefix.size());
    return n;
}

std::wstring companion_prefix(Handle object, const Location& where) {
    if (where.backing == Backing::memory) {
        return widen(fmt::format("{}shmrec.{}.", name_space(where.name), bare_name(where.name)));
    }
    BY_HANDLE_FILE_INFORMATION info{};
    if (!::GetFileInformationByHandle(object, &info)) {
        throw_system_error(where, "GetFileInformationByHandle", static_cast<int>(::GetLastError()));
    }
    return widen(fmt::format("{}shmrec.file.{:08x}.{:08x}{:08x}.", local_prefix,
                             info.dwVolumeSerialNumber, info.nFileIndexHigh, info.nFileIndexLow));
}

}  // namespace shmrec::platform::windows
