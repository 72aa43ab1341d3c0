// Names of a region's companion objects on Windows (windows/object_names.hpp).
#include "windows/object_names.hpp"

#include <windows.h>

#include <cstring>

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

std::optional<FileIdentity> file_identity(Handle file) noexcept {
    FILE_ID_INFO id{};
    if (::GetFileInformationByHandleEx(file, FileIdInfo, &id, sizeof id)) {
        FileIdentity out;
        out.volume = id.VolumeSerialNumber;
        static_assert(sizeof id.FileId.Identifier == 2 * sizeof(std::uint64_t));
        std::memcpy(&out.id_low, id.FileId.Identifier, sizeof out.id_low);  // little-endian
        std::memcpy(&out.id_high, id.FileId.Identifier + 8, sizeof out.id_high);
        return out;
    }
    // FileIdInfo is Windows 8 / Server 2012 and later, and not every file system answers it.
    BY_HANDLE_FILE_INFORMATION info{};
    if (!::GetFileInformationByHandle(file, &info)) return std::nullopt;
    FileIdentity out;
    out.volume = info.dwVolumeSerialNumber;
    out.id_low = (static_cast<std::uint64_t>(info.nFileIndexHigh) << 32) | info.nFileIndexLow;
    return out;
}

namespace {

// "shmrec#file#<volume>#<id>#", without a namespace.
std::string file_part(Handle file, const Location& where) {
    const auto id = file_identity(file);
    if (!id) {
        throw_system_error(where, "GetFileInformationByHandle(Ex) (the file's identity)",
                           static_cast<int>(::GetLastError()));
    }
    return fmt::format("shmrec#file#{:016x}#{:016x}{:016x}#", id->volume, id->id_high, id->id_low);
}

}  // namespace

std::wstring companion_prefix(Handle object, const Location& where) {
    if (where.backing == Backing::memory) {
        return widen(fmt::format("{}shmrec#{}#", name_space(where.name), bare_name(where.name)));
    }
    return widen(fmt::format("{}{}", global_prefix, file_part(object, where)));
}

std::wstring file_mapping_name(Handle file, const Location& where) {
    return widen(fmt::format("{}{}map", local_prefix, file_part(file, where)));
}

}  // namespace shmrec::platform::windows
