// Windows only: the native objects behind a region (docs/windows.md) — the explicit DACL of a
// new region (RELIABILITY S1/S9), names taken by another kind of object, the Local\ prefix,
// the lifetime of a paging-file region and of its writer token. Built only for Windows
// (tests/unit/CMakeLists.txt); the Linux equivalents are RegionTest's mode and /dev/shm tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "expect_error.hpp"
#include "kept_objects.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/fixed_string.hpp"
#include "student.shmrec.hpp"
#include "test_names.hpp"

namespace {

using shmrec::ErrorCode;
using shmrec::Location;
using shmrec_test::fails_with;
using shmrec_test::object_name;
using ::testing::HasSubstr;
using StudentCell = shmrec::Cell<school::Student>;

school::Student named_student(std::int64_t id, std::string_view name) {
    school::Student s{};
    s.id = id;
    shmrec::set_string(s.name, name);
    return s;
}

struct Handle {
    HANDLE h = nullptr;
    ~Handle() {
        if (h != nullptr) ::CloseHandle(h);
    }
};

std::string sid_text(PSID sid) {
    LPSTR text = nullptr;
    if (sid == nullptr || !::ConvertSidToStringSidA(sid, &text)) return "?";
    std::string out(text);
    ::LocalFree(text);
    return out;
}

std::string this_user() {
    HANDLE token = nullptr;
    ::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token);
    std::vector<unsigned char> buffer(256);
    DWORD size = 0;
    const bool ok = ::GetTokenInformation(token, TokenUser, buffer.data(),
                                          static_cast<DWORD>(buffer.size()), &size);
    ::CloseHandle(token);
    return ok ? sid_text(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid) : "?";
}

// The owner and the DACL of the file-mapping object `name`: "owner|protected|sid:mask,...".
struct Security {
    std::string owner;
    bool dacl_protected = false;
    std::vector<std::pair<std::string, ACCESS_MASK>> allowed;
};

Security security_of(const std::string& name) {
    Handle object{::OpenFileMappingW(READ_CONTROL, FALSE, object_name(name).c_str())};
    EXPECT_NE(object.h, nullptr) << "OpenFileMapping(READ_CONTROL) " << name << ": error "
                                 << ::GetLastError();
    Security s;
    if (object.h == nullptr) return s;
    PSID owner = nullptr;
    PACL dacl = nullptr;
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    EXPECT_EQ(::GetSecurityInfo(object.h, SE_KERNEL_OBJECT,
                                OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner,
                                nullptr, &dacl, nullptr, &descriptor),
              static_cast<DWORD>(ERROR_SUCCESS));
    const std::unique_ptr<void, decltype(&::LocalFree)> hold(descriptor, &::LocalFree);
    s.owner = sid_text(owner);
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD revision = 0;
    if (descriptor != nullptr && ::GetSecurityDescriptorControl(descriptor, &control, &revision)) {
        s.dacl_protected = (control & SE_DACL_PROTECTED) != 0;
    }
    EXPECT_NE(dacl, nullptr) << "a region must never have a NULL DACL (everyone: full access)";
    for (DWORD i = 0; dacl != nullptr && i < dacl->AceCount; ++i) {
        void* ace = nullptr;
        if (!::GetAce(dacl, i, &ace)) continue;
        const auto* header = static_cast<ACE_HEADER*>(ace);
        EXPECT_EQ(header->AceType, ACCESS_ALLOWED_ACE_TYPE) << "ACE " << i;
        if (header->AceType != ACCESS_ALLOWED_ACE_TYPE) continue;
        auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
        s.allowed.emplace_back(sid_text(&allowed->SidStart), allowed->Mask);
    }
    return s;
}

class WindowsObjects : public ::testing::Test {
protected:
    std::string name() { return shmrec_test::unique_region_name(); }
    void TearDown() override { shmrec_test::release_kept_objects(); }
};

TEST_F(WindowsObjects, NewRegionIsOwnedByThisUserWithAProtectedOwnerOnlyDacl) {
    const auto n = name();
    auto writer = StudentCell::writer(n);
    const Security s = security_of(n);
    EXPECT_EQ(s.owner, this_user());
    EXPECT_TRUE(s.dacl_protected) << "inherited ACEs would widen it";
    ASSERT_EQ(s.allowed.size(), 1u);
    EXPECT_EQ(s.allowed[0].first, this_user());
}

TEST_F(WindowsObjects, OtherBitsGrantEveryoneAndNothingMore) {
    shmrec::RegionOptions options;
    options.permissions = 0604;  // others: read only
    const auto n = name();
    auto writer = StudentCell::writer(n, shmrec::OpenMode::create_only, options);
    const Security s = security_of(n);
    ASSERT_EQ(s.allowed.size(), 2u);
    EXPECT_EQ(s.allowed[1].first, "S-1-1-0");  // Everyone
    const ACCESS_MASK everyone = s.allowed[1].second;
    // Generic rights are stored mapped to the section's own: map-read, not map-write.
    EXPECT_NE(everyone & (SECTION_MAP_READ | GENERIC_READ), 0u);
    EXPECT_EQ(everyone & (SECTION_MAP_WRITE | GENERIC_WRITE), 0u);
}

TEST_F(WindowsObjects, NameTakenByAnEventIsNotARegionForCreateAndOpen) {
    const auto n = name();
    Handle squatter{::CreateEventW(nullptr, TRUE, FALSE, object_name(n).c_str())};
    ASSERT_NE(squatter.h, nullptr);
    std::string what;
    ASSERT_TRUE(fails_with([&] { StudentCell::writer(n); }, ErrorCode::not_a_region, &what));
    EXPECT_THAT(what, HasSubstr("another kind of object"));
    EXPECT_THAT(what, HasSubstr(n));
    ASSERT_TRUE(fails_with([&] { StudentCell::reader(n); }, ErrorCode::not_a_region, &what));
    EXPECT_THAT(what, HasSubstr("another kind of object"));
}

TEST_F(WindowsObjects, PlainAndLocalNamesAreTheSameSessionObject) {
    const auto n = name();
    auto writer = StudentCell::writer(n);
    ASSERT_EQ(writer.try_write(named_student(99041232, "SecBug")), shmrec::WriteStatus::ok);
    auto reader = StudentCell::reader("Local\\" + n);
    school::Student got{};
    ASSERT_EQ(reader.try_read(got), shmrec::ReadStatus::ok);
    EXPECT_EQ(got.id, 99041232);
}

TEST_F(WindowsObjects, PagingFileRegionVanishesWithItsLastHandle) {
    const auto n = name();
    {
        auto writer = StudentCell::writer(n);
        Handle probe{::OpenFileMappingW(FILE_MAP_READ, FALSE, object_name(n).c_str())};
        EXPECT_NE(probe.h, nullptr) << "the region is a named file-mapping object";
    }
    Handle gone{::OpenFileMappingW(FILE_MAP_READ, FALSE, object_name(n).c_str())};
    EXPECT_EQ(gone.h, nullptr);
    EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
}

TEST_F(WindowsObjects, WriterRoleIsATokenThatLivesExactlyAsLongAsTheWriter) {
    const auto n = name();
    const std::wstring token = L"Local\\shmrec#" + object_name(n) + L"#lock.x0";
    auto reader_side = std::optional<StudentCell::Reader>();
    {
        auto writer = StudentCell::writer(n);
        reader_side.emplace(StudentCell::reader(n));  // keeps the object after the writer
        Handle held{::OpenEventW(SYNCHRONIZE, FALSE, token.c_str())};
        EXPECT_NE(held.h, nullptr) << "the writer holds its token";
        EXPECT_TRUE(reader_side->writer_alive());
    }
    Handle released{::OpenEventW(SYNCHRONIZE, FALSE, token.c_str())};
    EXPECT_EQ(released.h, nullptr) << "closing the writer closed its token";
    EXPECT_FALSE(reader_side->writer_alive());
    // The role is free: a new writer takes the region over while the reader holds it.
    auto successor = StudentCell::writer(n, shmrec::OpenMode::open_or_create);
    EXPECT_TRUE(reader_side->writer_alive());
}

}  // namespace
