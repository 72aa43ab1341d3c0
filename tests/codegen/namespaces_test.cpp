// A generated header must compile whatever the schema's namespaces and names are called:
// schemas/namespaces/hostile.fbs declares types in std::foo, shmrec, detail, flatbuffers,
// hostile::std (with an enum named int64_t and a struct named array) and hostile::shmrec
// (with structs named FixedString, std and Record). Including the header is most of the test.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <type_traits>

#include "hostile.shmrec.hpp"

namespace {

using R = ::hostile::shmrec::Record;

static_assert(::shmrec::Record<R>);
static_assert(::shmrec::Record<::std::foo::Vec>);
static_assert(::shmrec::Record<::shmrec::Wrapped>);
static_assert(::shmrec::Record<::hostile::shmrec::FixedString>);
static_assert(std::is_same_v<decltype(R::id), std::int64_t>);
static_assert(std::is_same_v<decltype(R::name), ::shmrec::FixedString<12>>);
static_assert(std::is_same_v<decltype(R::signed_text), ::shmrec::FixedString<5>>);
static_assert(std::is_same_v<decltype(R::raw), std::array<std::uint8_t, 4>>);
static_assert(std::is_same_v<decltype(R::small), ::hostile::std::int64_t>);
static_assert(std::is_same_v<decltype(R::fixed), ::hostile::shmrec::FixedString>);
static_assert(std::is_same_v<decltype(R::arrays), std::array<::hostile::std::array, 2>>);

TEST(HostileNamespaces, GeneratedTypesAreTheSchemasTypes) {
    R r{};
    r.id = 42;
    r.name = "hostile name";  // 12 characters: 11 fit
    r.signed_text = "abcdef";
    r.color = ::std::foo::Color::Green;
    r.inner.tag = "xy";
    r.small = ::hostile::std::int64_t::One;
    r.nested.v = -1;
    EXPECT_EQ(r.name, "hostile nam");
    EXPECT_EQ(r.signed_text.str(), "abcd");
    EXPECT_EQ(r.inner.tag, "xy");
    EXPECT_EQ(::shmrec::RecordTraits<R>::name, "hostile.shmrec.Record");
    EXPECT_EQ(::shmrec::RecordTraits<R>::size, sizeof(R));
    EXPECT_EQ(::shmrec::RecordTraits<::shmrec::Wrapped>::name, "shmrec.Wrapped");
    EXPECT_EQ(::shmrec::RecordTraits<::flatbuffers::Array>::name, "flatbuffers.Array");
    EXPECT_EQ(::shmrec::RecordTraits<::detail::Inner>::fields[1].type, "[ubyte:3]");
    EXPECT_EQ(::shmrec::RecordTraits<R>::schema, ::shmrec::RecordTraits<::std::foo::Vec>::schema);
}

}  // namespace
