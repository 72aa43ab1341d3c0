// What both samples share: the seed's record and how to print it.
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
    shmrec::set_string(stu.name, k == 0 ? std::string("SecBug") : fmt::format("SecBug-{}", k));
    return stu;
}

inline std::string describe(const school::Student& stu) {
    return fmt::format("{} {}", stu.id, shmrec::get_string(stu.name));
}

}  // namespace samples
