// Our generated structs against flatc's for the same schemas. flatc's members are private,
// so each test writes distinct values through one side's fields, copies the bytes to the
// other side and reads them back through its fields (flatc's accessors), both ways. A wrong
// offset, size or padding on either side makes a value land in the wrong field.
// If this fails after a generator change, the generated layout no longer matches flatc's.
#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "padding_names.shmrec.hpp"
#include "scalars.shmrec.hpp"
#include "shapes.shmrec.hpp"
#include "shmrec/fixed_string.hpp"
#include "student.shmrec.hpp"

// flatc declares the same names (codegen_test::scalars::AllScalars, ...): a namespace of
// their own keeps both in one test. flatbuffers.h is already included, so only the
// generated declarations land in fbref.
namespace fbref {
#include "scalars_generated.h"
#include "shapes_generated.h"
#include "student_generated.h"
}  // namespace fbref

namespace {

template <class To, class From>
To bytes_as(const From& from) {
    static_assert(sizeof(To) == sizeof(From));
    To to;
    // flatc's structs have constructors, so g++ warns about memcpy; the bytes are the point.
    std::memcpy(static_cast<void*>(&to), static_cast<const void*>(&from), sizeof to);
    return to;
}

template <class T>
bool all_zero_bytes(const T& value) {
    const std::array<unsigned char, sizeof(T)> zero{};
    return std::memcmp(&value, zero.data(), sizeof(T)) == 0;
}

// RecordTraits<T>::fields against the struct itself: offsetof and sizeof of each member.
#define SHMREC_FIELD(T, m)                \
    std::pair<std::size_t, std::size_t> { \
        offsetof(T, m), sizeof(T::m)      \
    }
template <class T>
void expect_traits_fields(const std::vector<std::pair<std::size_t, std::size_t>>& members) {
    const auto& fields = shmrec::RecordTraits<T>::fields;
    ASSERT_EQ(fields.size(), members.size());
    for (std::size_t i = 0; i < fields.size(); ++i) {
        EXPECT_EQ(fields[i].offset, members[i].first) << fields[i].name;
        EXPECT_EQ(fields[i].size, members[i].second) << fields[i].name;
    }
    EXPECT_EQ(shmrec::RecordTraits<T>::size, sizeof(T));
    EXPECT_EQ(shmrec::RecordTraits<T>::alignment, alignof(T));
}

template <class Ours, class Theirs>
void expect_same_size_and_alignment() {
    EXPECT_EQ(sizeof(Ours), sizeof(Theirs));
    EXPECT_EQ(alignof(Ours), alignof(Theirs));
    EXPECT_TRUE(all_zero_bytes(Ours{})) << "Ours{} must be all-zero bytes, padding included";
}

// --- AllScalars --------------------------------------------------------------------------

namespace ours_s = codegen_test::scalars;
namespace theirs_s = fbref::codegen_test::scalars;

TEST(LayoutMatchesFlatc, AllScalarsOursToFlatc) {
    expect_same_size_and_alignment<ours_s::AllScalars, theirs_s::AllScalars>();
    ours_s::AllScalars o{};
    o.flag = true;
    o.i64 = -0x0102030405060708;
    o.i8 = -9;
    o.u16 = 0xA1B2;
    o.u8 = 0xC3;
    o.i32 = -0x11223344;
    o.i16 = -0x2233;
    o.u64 = 0x8877665544332211u;
    o.u32 = 0xDEADBEEFu;
    o.f64 = 1.5e300;
    o.f32 = -2.25f;
    o.last = 0x7E;
    const auto t = bytes_as<theirs_s::AllScalars>(o);
    EXPECT_EQ(t.flag(), true);
    EXPECT_EQ(t.i64(), -0x0102030405060708);
    EXPECT_EQ(t.i8(), -9);
    EXPECT_EQ(t.u16(), 0xA1B2);
    EXPECT_EQ(t.u8(), 0xC3);
    EXPECT_EQ(t.i32(), -0x11223344);
    EXPECT_EQ(t.i16(), -0x2233);
    EXPECT_EQ(t.u64(), 0x8877665544332211u);
    EXPECT_EQ(t.u32(), 0xDEADBEEFu);
    EXPECT_EQ(t.f64(), 1.5e300);
    EXPECT_EQ(t.f32(), -2.25f);
    EXPECT_EQ(t.last(), 0x7E);
}

TEST(LayoutMatchesFlatc, AllScalarsFlatcToOurs) {
    const theirs_s::AllScalars t(true, 0x7172737475767778, -100, 0x1234, 0xFE, 0x10203040, -0x3344,
                                 0xF0E0D0C0B0A09080u, 0x0BADF00Du, -3.75, 0.125f, 0x55);
    const auto o = bytes_as<ours_s::AllScalars>(t);
    EXPECT_EQ(o.flag, true);
    EXPECT_EQ(o.i64, 0x7172737475767778);
    EXPECT_EQ(o.i8, -100);
    EXPECT_EQ(o.u16, 0x1234);
    EXPECT_EQ(o.u8, 0xFE);
    EXPECT_EQ(o.i32, 0x10203040);
    EXPECT_EQ(o.i16, -0x3344);
    EXPECT_EQ(o.u64, 0xF0E0D0C0B0A09080u);
    EXPECT_EQ(o.u32, 0x0BADF00Du);
    EXPECT_EQ(o.f64, -3.75);
    EXPECT_EQ(o.f32, 0.125f);
    EXPECT_EQ(o.last, 0x55);
    EXPECT_TRUE(all_zero_bytes(o.padding0_)) << "flatc zeroes its padding; so must the copy";
}

TEST(LayoutMatchesFlatc, AllScalarsTraitsDescribeTheStruct) {
    using T = ours_s::AllScalars;
    expect_traits_fields<T>({SHMREC_FIELD(T, flag), SHMREC_FIELD(T, i64), SHMREC_FIELD(T, i8),
                             SHMREC_FIELD(T, u16), SHMREC_FIELD(T, u8), SHMREC_FIELD(T, i32),
                             SHMREC_FIELD(T, i16), SHMREC_FIELD(T, u64), SHMREC_FIELD(T, u32),
                             SHMREC_FIELD(T, f64), SHMREC_FIELD(T, f32), SHMREC_FIELD(T, last)});
    EXPECT_EQ(shmrec::RecordTraits<T>::name, "codegen_test.scalars.AllScalars");
    EXPECT_EQ(shmrec::RecordTraits<T>::fields[1].type, "long");
}

// --- Awkward: keyword names and a field named like a padding member ---------------------

TEST(LayoutMatchesFlatc, KeywordNamesAreEscapedLikeFlatc) {
    expect_same_size_and_alignment<ours_s::Awkward, theirs_s::Awkward>();
    ours_s::Awkward o{};
    o.class_ = -3;
    o.new_ = 0xAB;
    o.delete_ = 6.5;
    const auto t = bytes_as<theirs_s::Awkward>(o);
    EXPECT_EQ(t.class_(), -3);
    EXPECT_EQ(t.new_(), 0xAB);
    EXPECT_EQ(t.delete_(), 6.5);
    EXPECT_EQ(shmrec::RecordTraits<ours_s::Awkward>::fields[0].name, "class");
    using T = ours_s::Awkward;
    expect_traits_fields<T>(
        {SHMREC_FIELD(T, class_), SHMREC_FIELD(T, new_), SHMREC_FIELD(T, delete_)});
}

TEST(LayoutMatchesFlatc, PaddingMembersAvoidFieldNames) {
    using T = codegen_test::naming::PaddingNames;
    // tag @0, 3 bytes padding, padding0_ @4, padding1_ @8, 7 bytes padding, wide @16.
    T o{};
    EXPECT_EQ(sizeof(o.padding0_1_), 3u);
    EXPECT_EQ(sizeof(o.padding1_1_), 7u);
    EXPECT_EQ(sizeof(T), 24u);
    expect_traits_fields<T>({SHMREC_FIELD(T, tag), SHMREC_FIELD(T, padding0_),
                             SHMREC_FIELD(T, padding1_), SHMREC_FIELD(T, wide)});
}

// --- Segment: enums, nested structs from another file, arrays of everything -------------

namespace ours_c = codegen_test::common;
namespace ours_g = codegen_test::geo::deep;
namespace theirs_c = fbref::codegen_test::common;
namespace theirs_g = fbref::codegen_test::geo::deep;

TEST(LayoutMatchesFlatc, NestedAndArrayTypesHaveFlatcSizes) {
    expect_same_size_and_alignment<ours_c::Vec3, theirs_c::Vec3>();
    expect_same_size_and_alignment<ours_c::Stamp, theirs_c::Stamp>();
    expect_same_size_and_alignment<ours_g::Later, theirs_g::Later>();
    expect_same_size_and_alignment<ours_g::Segment, theirs_g::Segment>();
    expect_same_size_and_alignment<ours_g::Aligned, theirs_g::Aligned>();
    expect_same_size_and_alignment<ours_g::HoldsAligned, theirs_g::HoldsAligned>();
    EXPECT_EQ(alignof(ours_g::Aligned), 16u) << "force_align: 16";
}

TEST(LayoutMatchesFlatc, SegmentOursToFlatc) {
    ours_g::Segment o{};
    o.kind = ours_g::Kind::Polygon;
    o.flag = true;
    o.color = ours_c::Color::Blue;
    o.from = {1.f, 2.f, 3.f};
    o.stamp = {0x1122334455667788, 999u};
    o.points = {{{4.f, 5.f, 6.f}, {7.f, 8.f, 9.f}, {10.f, 11.f, 12.f}}};
    o.colors = {ours_c::Color::Green, ours_c::Color::Red, ours_c::Color::Blue, ours_c::Color::Green,
                ours_c::Color::Blue};
    o.level = ours_c::Level::Low;
    o.weights = {0.5, -0.25};
    for (std::size_t i = 0; i < o.label.size(); ++i)
        o.label[i] = static_cast<std::uint8_t>(100 + i);
    o.big = ours_g::Big::Max;
    o.stamps = {{{-1, 2u}, {-3, 4u}}};
    o.local = {-5, {6, 7, 8}};

    const auto t = bytes_as<theirs_g::Segment>(o);
    EXPECT_EQ(t.kind(), theirs_g::Kind_Polygon);
    EXPECT_EQ(t.flag(), true);
    EXPECT_EQ(t.color(), theirs_c::Color_Blue);
    EXPECT_EQ(t.from().x(), 1.f);
    EXPECT_EQ(t.from().y(), 2.f);
    EXPECT_EQ(t.from().z(), 3.f);
    EXPECT_EQ(t.stamp().seconds(), 0x1122334455667788);
    EXPECT_EQ(t.stamp().nanos(), 999u);
    for (unsigned i = 0; i < 3; ++i) {
        EXPECT_EQ(t.points()->Get(i)->x(), static_cast<float>(4 + 3 * i));
        EXPECT_EQ(t.points()->Get(i)->z(), static_cast<float>(6 + 3 * i));
    }
    EXPECT_EQ(t.colors()->Get(0), theirs_c::Color_Green);
    EXPECT_EQ(t.colors()->Get(1), theirs_c::Color_Red);
    EXPECT_EQ(t.colors()->Get(4), theirs_c::Color_Blue);
    EXPECT_EQ(t.level(), theirs_c::Level_Low);
    EXPECT_EQ(t.weights()->Get(0), 0.5);
    EXPECT_EQ(t.weights()->Get(1), -0.25);
    for (unsigned i = 0; i < 13; ++i) EXPECT_EQ(t.label()->Get(i), 100 + i);
    EXPECT_EQ(t.big(), theirs_g::Big_Max);
    EXPECT_EQ(t.stamps()->Get(0)->seconds(), -1);
    EXPECT_EQ(t.stamps()->Get(1)->seconds(), -3);
    EXPECT_EQ(t.stamps()->Get(1)->nanos(), 4u);
    EXPECT_EQ(t.local().a(), -5);
    EXPECT_EQ(t.local().b()->Get(2), 8);
}

TEST(LayoutMatchesFlatc, SegmentFlatcToOurs) {
    theirs_g::Segment t;
    t.mutate_kind(theirs_g::Kind_Line);
    t.mutate_flag(true);
    t.mutate_color(theirs_c::Color_Green);
    t.mutable_from() = theirs_c::Vec3(-1.f, -2.f, -3.f);
    t.mutable_stamp() = theirs_c::Stamp(42, 7u);
    for (unsigned i = 0; i < 3; ++i) {
        t.mutable_points()->Mutate(i, theirs_c::Vec3(static_cast<float>(i), 0.5f, -0.5f));
    }
    t.mutable_colors()->Mutate(3, theirs_c::Color_Blue);
    t.mutate_level(theirs_c::Level_High);
    t.mutable_weights()->Mutate(1, 9.75);
    t.mutable_label()->Mutate(12, 0xEE);
    t.mutate_big(theirs_g::Big_Max);
    t.mutable_stamps()->Mutate(1, theirs_c::Stamp(-77, 88u));
    t.mutable_local() =
        theirs_g::Later(300, flatbuffers::make_span(std::array<std::int8_t, 3>{-1, -2, -3}));

    const auto o = bytes_as<ours_g::Segment>(t);
    EXPECT_EQ(o.kind, ours_g::Kind::Line);
    EXPECT_TRUE(o.flag);
    EXPECT_EQ(o.color, ours_c::Color::Green);
    EXPECT_EQ(o.from.x, -1.f);
    EXPECT_EQ(o.from.z, -3.f);
    EXPECT_EQ(o.stamp.seconds, 42);
    EXPECT_EQ(o.stamp.nanos, 7u);
    for (unsigned i = 0; i < 3; ++i) {
        EXPECT_EQ(o.points[i].x, static_cast<float>(i));
        EXPECT_EQ(o.points[i].y, 0.5f);
    }
    EXPECT_EQ(o.colors[3], ours_c::Color::Blue);
    EXPECT_EQ(o.colors[2], ours_c::Color::Red);
    EXPECT_EQ(o.level, ours_c::Level::High);
    EXPECT_EQ(o.weights[1], 9.75);
    EXPECT_EQ(o.label[12], 0xEE);
    EXPECT_EQ(o.big, ours_g::Big::Max);
    EXPECT_EQ(o.stamps[1].seconds, -77);
    EXPECT_EQ(o.stamps[1].nanos, 88u);
    EXPECT_EQ(o.local.a, 300);
    EXPECT_EQ(o.local.b[0], -1);
    EXPECT_EQ(o.local.b[2], -3);
}

TEST(LayoutMatchesFlatc, SegmentTraitsDescribeTheStruct) {
    using T = ours_g::Segment;
    expect_traits_fields<T>({SHMREC_FIELD(T, kind), SHMREC_FIELD(T, flag), SHMREC_FIELD(T, color),
                             SHMREC_FIELD(T, from), SHMREC_FIELD(T, stamp), SHMREC_FIELD(T, points),
                             SHMREC_FIELD(T, colors), SHMREC_FIELD(T, level),
                             SHMREC_FIELD(T, weights), SHMREC_FIELD(T, label), SHMREC_FIELD(T, big),
                             SHMREC_FIELD(T, stamps), SHMREC_FIELD(T, local)});
    const auto& f = shmrec::RecordTraits<T>::fields;
    EXPECT_EQ(f[2].type, "codegen_test.common.Color");
    EXPECT_EQ(f[5].type, "[codegen_test.common.Vec3:3]");
    EXPECT_EQ(f[5].array_length, 3u);
    EXPECT_EQ(f[0].array_length, 0u);
    EXPECT_EQ(shmrec::RecordTraits<T>::name, "codegen_test.geo.deep.Segment");
    EXPECT_EQ(shmrec::RecordTraits<T>::schema_file, "shapes.fbs");
    EXPECT_NE(shmrec::RecordTraits<T>::schema.find("struct Segment {"), std::string_view::npos);
    EXPECT_EQ(shmrec::RecordTraits<ours_g::Later>::schema, shmrec::RecordTraits<T>::schema);
}

TEST(LayoutMatchesFlatc, ForceAlignedStructsBothWays) {
    ours_g::HoldsAligned o{};
    o.head = -1;
    o.inner = {0x0A0B0C0D, 0xE1};
    o.tail = {{{11, 12}, {13, 14}}};
    const auto t = bytes_as<theirs_g::HoldsAligned>(o);
    EXPECT_EQ(t.head(), -1);
    EXPECT_EQ(t.inner().v(), 0x0A0B0C0D);
    EXPECT_EQ(t.inner().w(), 0xE1);
    EXPECT_EQ(t.tail()->Get(1)->v(), 13);
    EXPECT_EQ(t.tail()->Get(1)->w(), 14);

    theirs_g::HoldsAligned t2;
    t2.mutate_head(5);
    t2.mutable_inner() = theirs_g::Aligned(-6, 7);
    t2.mutable_tail()->Mutate(0, theirs_g::Aligned(8, 9));
    const auto o2 = bytes_as<ours_g::HoldsAligned>(t2);
    EXPECT_EQ(o2.head, 5);
    EXPECT_EQ(o2.inner.v, -6);
    EXPECT_EQ(o2.inner.w, 7);
    EXPECT_EQ(o2.tail[0].v, 8);
    EXPECT_EQ(o2.tail[0].w, 9);
    using T = ours_g::HoldsAligned;
    expect_traits_fields<T>({SHMREC_FIELD(T, head), SHMREC_FIELD(T, inner), SHMREC_FIELD(T, tail)});
}

// --- Student: the record of the samples --------------------------------------------------

TEST(LayoutMatchesFlatc, StudentBothWays) {
    expect_same_size_and_alignment<school::Student, fbref::school::Student>();
    school::Student o{};
    o.id = 0x0123456789ABCDEF;
    o.name = "Ada Lovelace";  // name: [ubyte:20] (shmrec_text) is a shmrec::FixedString<20>
    const auto t = bytes_as<fbref::school::Student>(o);
    EXPECT_EQ(t.id(), 0x0123456789ABCDEF);
    EXPECT_EQ(t.name()->Get(0), 'A');
    EXPECT_EQ(t.name()->Get(11), 'e');
    EXPECT_EQ(t.name()->Get(12), 0);

    fbref::school::Student t2;
    t2.mutate_id(-2);
    t2.mutable_name()->Mutate(19, 'z');
    const auto o2 = bytes_as<school::Student>(t2);
    EXPECT_EQ(o2.id, -2);
    EXPECT_EQ(o2.name[19], 'z');

    // Text written through flatc's array reads back as text, with or without a NUL.
    fbref::school::Student t3;
    for (int i = 0; i < 5; ++i)
        t3.mutable_name()->Mutate(i, static_cast<std::uint8_t>("SecBug"[i]));
    EXPECT_EQ(bytes_as<school::Student>(t3).name, "SecBu");
    for (int i = 0; i < 20; ++i) t3.mutable_name()->Mutate(i, static_cast<std::uint8_t>('a' + i));
    EXPECT_EQ(bytes_as<school::Student>(t3).name, "abcdefghijklmnopqrst") << "no NUL: all 20 bytes";

    using T = school::Student;
    expect_traits_fields<T>({SHMREC_FIELD(T, id), SHMREC_FIELD(T, name)});
    EXPECT_EQ(shmrec::RecordTraits<T>::size, 32u);
    EXPECT_EQ(shmrec::RecordTraits<T>::name, "school.Student");
    EXPECT_EQ(shmrec::RecordTraits<T>::fields[1].type, "[ubyte:20]");
    EXPECT_EQ(shmrec::RecordTraits<T>::fields[1].array_length, 20u);
    static_assert(shmrec::Record<T>);
    static_assert(std::is_same_v<decltype(T::name), shmrec::FixedString<20>>);
}

// A byte array without (shmrec_text) stays a std::array.
static_assert(std::is_same_v<decltype(ours_g::Segment::label), std::array<std::uint8_t, 13>>);
static_assert(std::is_same_v<decltype(ours_g::Later::b), std::array<std::int8_t, 3>>);

}  // namespace
