// Security descriptors and owner checks on Windows (windows/security.hpp).
#include "windows/security.hpp"

#include <aclapi.h>
#include <sddl.h>

#include <memory>
#include <vector>

#include <fmt/format.h>

namespace shmrec::platform::windows {

namespace {

// The TOKEN_USER / TOKEN_OWNER / TOKEN_PRIMARY_GROUP of this process, as raw bytes.
std::vector<unsigned char> token_information(TOKEN_INFORMATION_CLASS what) {
    HANDLE token = nullptr;
    if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) return {};
    DWORD size = 0;
    ::GetTokenInformation(token, what, nullptr, 0, &size);
    std::vector<unsigned char> buffer(size);
    const bool ok = size != 0 && ::GetTokenInformation(token, what, buffer.data(), size, &size);
    ::CloseHandle(token);
    if (!ok) buffer.clear();
    return buffer;
}

PSID user_sid(const std::vector<unsigned char>& user) {
    return user.empty() ? nullptr : reinterpret_cast<const TOKEN_USER*>(user.data())->User.Sid;
}

std::wstring sid_string(PSID sid) {
    LPWSTR text = nullptr;
    if (sid == nullptr || !::ConvertSidToStringSidW(sid, &text)) return {};
    std::wstring out(text);
    ::LocalFree(text);
    return out;
}

// "GR", "GW", "GRGW" from an rwx triple's r and w bits.
std::wstring generic_rights(unsigned bits) {
    std::wstring r;
    if ((bits & 4u) != 0) r += L"GR";
    if ((bits & 2u) != 0) r += L"GW";
    return r;
}

std::wstring owner_ace() {
    const auto user = token_information(TokenUser);
    const std::wstring sid = sid_string(user_sid(user));
    return sid.empty() ? std::wstring() : L"(A;;GA;;;" + sid + L")";
}

}  // namespace

SecurityAttributes::SecurityAttributes(const std::wstring& sddl) {
    attributes_.nLength = sizeof attributes_;
    attributes_.bInheritHandle = FALSE;  // never into child processes (POSIX: close-on-exec)
    if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                               &descriptor_, nullptr)) {
        descriptor_ = nullptr;
    }
    attributes_.lpSecurityDescriptor = descriptor_;
}

SecurityAttributes::SecurityAttributes(SecurityAttributes&& o) noexcept
    : attributes_(o.attributes_), descriptor_(o.descriptor_) {
    o.descriptor_ = nullptr;
}

SecurityAttributes::~SecurityAttributes() {
    if (descriptor_ != nullptr) ::LocalFree(descriptor_);
}

SecurityAttributes SecurityAttributes::for_region(unsigned permissions) {
    const std::wstring owner = owner_ace();
    if (owner.empty()) return SecurityAttributes(L"");  // get() is null: the caller fails
    std::wstring sddl = L"D:P" + owner;
    if (const auto rights = generic_rights((permissions >> 3) & 7u); !rights.empty()) {
        const auto group = token_information(TokenPrimaryGroup);
        const std::wstring sid =
            group.empty()
                ? std::wstring()
                : sid_string(reinterpret_cast<const TOKEN_PRIMARY_GROUP*>(group.data())->PrimaryGroup);
        if (!sid.empty()) sddl += L"(A;;" + rights + L";;;" + sid + L")";
    }
    if (const auto rights = generic_rights(permissions & 7u); !rights.empty()) {
        sddl += L"(A;;" + rights + L";;;WD)";
    }
    return SecurityAttributes(sddl);
}

SecurityAttributes SecurityAttributes::for_lock_token() {
    const std::wstring owner = owner_ace();
    return SecurityAttributes(owner.empty() ? std::wstring() : L"D:P" + owner);
}

SecurityAttributes SecurityAttributes::for_wake_event() {
    const std::wstring owner = owner_ace();
    // 0x100002: SYNCHRONIZE | EVENT_MODIFY_STATE.
    return SecurityAttributes(owner.empty() ? std::wstring() : L"D:P" + owner + L"(A;;0x100002;;;WD)");
}

std::optional<std::string> foreign_owner(HANDLE object, ObjectKind kind) {
    PSID owner = nullptr;
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    const DWORD rc = ::GetSecurityInfo(object,
                                       kind == ObjectKind::file ? SE_FILE_OBJECT : SE_KERNEL_OBJECT,
                                       OWNER_SECURITY_INFORMATION, &owner, nullptr, nullptr,
                                       nullptr, &descriptor);
    if (rc != ERROR_SUCCESS) return fmt::format("cannot be checked (GetSecurityInfo: error {})", rc);
    const std::unique_ptr<void, decltype(&::LocalFree)> hold(descriptor, &::LocalFree);
    // Ours when owned by this user, or by the owner this user's new objects get (an
    // administrator's objects are owned by the Administrators group).
    const auto user = token_information(TokenUser);
    const auto default_owner = token_information(TokenOwner);
    if (owner != nullptr && user_sid(user) != nullptr && ::EqualSid(owner, user_sid(user))) {
        return std::nullopt;
    }
    if (owner != nullptr && !default_owner.empty() &&
        ::EqualSid(owner, reinterpret_cast<const TOKEN_OWNER*>(default_owner.data())->Owner)) {
        return std::nullopt;
    }
    return fmt::format("is owned by {}, not by this user",
                       [&] {
                           const std::wstring w = sid_string(owner);
                           return std::string(w.begin(), w.end());  // SIDs are ASCII
                       }());
}

}  // namespace shmrec::platform::windows
