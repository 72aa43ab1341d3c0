// The table records of memwrite --table / memread --table: school.Enrolment (schema/enrolment.fbs),
// a FlatBuffers table with the seed's student, a string and a vector of strings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "enrolment.shmrec.hpp"
#include "student_format.hpp"

namespace samples {

// Enrolment i of a --table stream: student i, (i % 4) courses, a note; built with `fbb` (a
// builder over ring memory when memwrite builds in place).
inline flatbuffers::Offset<school::Enrolment> build_enrolment(flatbuffers::FlatBufferBuilder& fbb,
                                                              std::uint64_t i) {
    const school::Student stu = stream_student(i);
    std::vector<std::string> courses;
    for (std::uint64_t c = 0; c < i % 4; ++c) courses.push_back(fmt::format("course-{}", i + c));
    return school::CreateEnrolment(fbb, &stu, fbb.CreateVectorOfStrings(courses),
                                   fbb.CreateString(fmt::format("enrolment {}", i)),
                                   static_cast<float>(i % 20) / 2);
}

// Whether `e` is enrolment i of the stream, field by field.
inline bool is_enrolment(const school::Enrolment& e, std::uint64_t i) {
    if (e.student() == nullptr || static_cast<std::uint64_t>(e.student()->id) != i ||
        !is_stream_student(*e.student())) {
        return false;
    }
    if (e.note() == nullptr || e.note()->str() != fmt::format("enrolment {}", i)) return false;
    if (e.grade() != static_cast<float>(i % 20) / 2) return false;
    if (e.courses() == nullptr || e.courses()->size() != i % 4) return false;
    for (flatbuffers::uoffset_t c = 0; c < e.courses()->size(); ++c) {
        if (e.courses()->Get(c)->str() != fmt::format("course-{}", i + c)) return false;
    }
    return true;
}

inline std::string describe(const school::Enrolment& e) {
    return fmt::format("{} '{}' grade {} courses {}",
                       e.student() ? describe(*e.student()) : std::string("(no student)"),
                       e.note() ? e.note()->str() : std::string(), e.grade(),
                       e.courses() ? e.courses()->size() : 0);
}

}  // namespace samples
