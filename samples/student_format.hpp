// What both samples share: the seed's record, how to print it, and the streamed records.
#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>
#include <shmrec/fixed_string.hpp>

#include "student.shmrec.hpp"

namespace samples {

inline constexpr const char* default_region = "TestMemShare";

// The seed program's record: stu.ID = 99041232; strcpy(stu.name, "SecBug").
inline school::Student make_student(std::uint64_t k) {
    school::Student stu{};
    stu.id = 99041232 + static_cast<std::int64_t>(k);
    stu.name = k == 0 ? std::string("SecBug") : fmt::format("SecBug-{}", k);
    return stu;
}

// Record i of a --ring / --broadcast stream: id i, and a name derived from it so a reader can
// tell a torn or misplaced record from a good one.
inline school::Student stream_student(std::uint64_t i) {
    school::Student stu{};
    stu.id = static_cast<std::int64_t>(i);
    stu.name = fmt::format("student-{}", i);
    return stu;
}

inline bool is_stream_student(const school::Student& stu) {
    return stu.id >= 0 &&
           stu.name == fmt::format("student-{}", stu.id);
}

inline std::string describe(const school::Student& stu) {
    return fmt::format("{} {}", stu.id, stu.name.view());
}

}  // namespace samples
