// shmrec::FixedString<N>: the C++ type of a `[ubyte:N] (shmrec_text)` field. Text in, text
// out, always NUL-terminated, zero-filled behind the text, and exactly N bytes of layout.
#include "shmrec/fixed_string.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

namespace {

using Name = shmrec::FixedString<20>;

// The layout promises: the bytes of std::array<std::uint8_t, N> and nothing else.
static_assert(sizeof(Name) == sizeof(std::array<std::uint8_t, 20>));
static_assert(alignof(Name) == alignof(std::array<std::uint8_t, 20>));
static_assert(sizeof(shmrec::FixedString<1>) == 1 && alignof(shmrec::FixedString<1>) == 1);
static_assert(sizeof(shmrec::FixedString<13>) == 13);
static_assert(std::is_trivially_copyable_v<Name>);
static_assert(std::is_standard_layout_v<Name>);
static_assert(std::is_nothrow_default_constructible_v<Name>);
static_assert(std::is_convertible_v<Name, std::string_view>);
static_assert(!std::is_convertible_v<Name, std::string>, "str() makes the copy, on purpose");

// A record shaped like school::Student, with its text field in the middle.
struct alignas(8) Rec {
    std::int64_t id{};
    shmrec::FixedString<20> name{};
    std::array<std::uint8_t, 4> padding0_{};
};
static_assert(sizeof(Rec) == 32 && offsetof(Rec, name) == 8);
static_assert(std::is_trivially_copyable_v<Rec> && std::is_standard_layout_v<Rec>);

std::string bytes_of(const Name& n) {
    return std::string(n.data(), n.size());
}

// Usable at compile time, so constexpr records can hold text.
constexpr Name compile_time_name = "Ada";
static_assert(compile_time_name == "Ada" && compile_time_name.view().size() == 3);
static_assert(Name{}.empty() && Name{}.view().empty());

TEST(FixedString, DefaultIsAllZeroBytes) {
    const Name n{};
    EXPECT_EQ(bytes_of(n), std::string(20, '\0'));
    EXPECT_TRUE(n.empty());
    EXPECT_EQ(n.view(), "");
    const Rec r{};
    std::array<unsigned char, sizeof(Rec)> zero{};
    EXPECT_EQ(std::memcmp(&r, zero.data(), sizeof r), 0);
}

TEST(FixedString, AssignsFromEveryStringType) {
    Name n;
    n = "SecBug";
    EXPECT_EQ(n.view(), "SecBug");
    n = std::string("from string");
    EXPECT_EQ(n.str(), "from string");
    n = std::string_view("from view");
    EXPECT_EQ(n.str(), "from view");
    const char* p = "from pointer";
    n = p;
    EXPECT_EQ(n.str(), "from pointer");
    n = shmrec::FixedString<8>("other");
    EXPECT_EQ(n.str(), "other");
    const Rec r{7, "Grace"};  // aggregate initialisation of a record
    EXPECT_EQ(r.name, "Grace");
}

TEST(FixedString, ReadsAsAStringView) {
    Rec r{};
    r.name = "SecBug";
    const std::string_view v = r.name;
    EXPECT_EQ(v, "SecBug");
    const std::string s = r.name.str();
    EXPECT_EQ(s, "SecBug");
    EXPECT_EQ(r.name.view().size(), 6u);
    EXPECT_EQ(r.name.size(), 20u) << "size() is the byte count, as std::array's";
    EXPECT_EQ(Name::capacity(), 19u);
}

TEST(FixedString, TruncatesToLeaveRoomForTheNul) {
    Name n;
    EXPECT_TRUE(n.assign(std::string(19, 'n'))) << "19 characters fit 20 bytes";
    EXPECT_EQ(n.view(), std::string(19, 'n'));
    EXPECT_EQ(n[19], '\0');
    EXPECT_FALSE(n.assign(std::string(20, 't'))) << "reports truncation";
    EXPECT_EQ(n.view(), std::string(19, 't'));
    EXPECT_EQ(n[19], '\0');
    n = std::string(500, 'l');
    EXPECT_EQ(n.view(), std::string(19, 'l'));
    EXPECT_EQ(n[19], '\0');

    shmrec::FixedString<1> one;
    EXPECT_FALSE(one.assign("x"));
    EXPECT_EQ(one.view(), "");
    EXPECT_EQ(one[0], '\0');
}

TEST(FixedString, ZeroFillsBehindAShorterValue) {
    Name n = "a rather long name";
    n = "Bo";
    EXPECT_EQ(bytes_of(n), std::string("Bo") + std::string(18, '\0'));
    n.clear();
    EXPECT_EQ(bytes_of(n), std::string(20, '\0'));
    n = "x";
    n = "";
    EXPECT_TRUE(n.empty());
    EXPECT_EQ(bytes_of(n), std::string(20, '\0'));
}

TEST(FixedString, ANulInTheTextEndsIt) {
    Name n;
    EXPECT_TRUE(n.assign(std::string_view("ab\0cd", 5)));
    EXPECT_EQ(n.view(), "ab");
}

TEST(FixedString, BytesWithoutANulFromAPeerReadAsAllNBytes) {
    Name n;
    n.fill('z');
    EXPECT_EQ(n.view(), std::string(20, 'z'));
    EXPECT_EQ(n.str(), std::string(20, 'z'));
    EXPECT_FALSE(n.empty());
    // Garbage behind the first NUL is not part of the text.
    std::memcpy(n.data(), "ok\0garbage", 10);
    EXPECT_EQ(n.view(), "ok");
    EXPECT_EQ(n, "ok");
}

TEST(FixedString, ComparesWithStrings) {
    const Name n = "Ada";
    EXPECT_TRUE(n == "Ada");
    EXPECT_TRUE("Ada" == n);
    EXPECT_TRUE(n == std::string("Ada"));
    EXPECT_TRUE(std::string("Ada") == n);
    EXPECT_TRUE(n == std::string_view("Ada"));
    EXPECT_TRUE(std::string_view("Ada") == n);
    EXPECT_TRUE(n != "Bob");
    EXPECT_TRUE(n < "Bob");
    EXPECT_TRUE("Bob" > n);
    EXPECT_TRUE(n == Name("Ada"));
    EXPECT_TRUE(n == shmrec::FixedString<4>("Ada"));
    EXPECT_TRUE(n < Name("Adam"));

    // Equality is of the text: bytes after the NUL do not count.
    Name garbage;
    std::memcpy(garbage.data(), "Ada\0xyz", 7);
    EXPECT_EQ(garbage, n);
}

TEST(FixedString, Streams) {
    Rec r{};
    r.name = "SecBug";
    std::ostringstream out;
    out << r.id << ' ' << r.name << '|';
    EXPECT_EQ(out.str(), "0 SecBug|");
}

TEST(FixedString, CopiesAsBytes) {
    Rec a{};
    a.id = 1;
    a.name = "copied";
    Rec b;
    std::memcpy(static_cast<void*>(&b), &a, sizeof a);
    EXPECT_EQ(b.name, "copied");
    const Rec c = a;
    EXPECT_EQ(c.name.view(), "copied");
}

TEST(FixedString, SetStringAndGetStringWorkOnTextAndOnPlainArrays) {
    Name text;
    EXPECT_TRUE(shmrec::set_string(text, "Ada"));
    EXPECT_EQ(shmrec::get_string(text), "Ada");
    EXPECT_EQ(shmrec::to_string(text), "Ada");
    EXPECT_FALSE(shmrec::set_string(text, std::string(25, 'a')));
    EXPECT_EQ(shmrec::get_string(text).size(), 19u);

    std::array<std::uint8_t, 20> bytes{};
    EXPECT_TRUE(shmrec::set_string(bytes, "Ada"));
    EXPECT_EQ(shmrec::get_string(bytes), "Ada");
    EXPECT_EQ(shmrec::to_string(bytes), "Ada");
    std::array<std::int8_t, 4> signed_bytes{};
    EXPECT_FALSE(shmrec::set_string(signed_bytes, "Grace"));
    EXPECT_EQ(shmrec::get_string(signed_bytes), "Gra");

    // The same bytes either way.
    shmrec::set_string(text, "Ada");
    EXPECT_EQ(std::memcmp(text.data(), bytes.data(), 20), 0);
}

}  // namespace
