#include <shmrec/shmrec.hpp>

#include "outer.shmrec.hpp"
#include "student.shmrec.hpp"

#include <cstdio>

#ifdef CONSUMER_TABLES
// A table: flatc's code (through the package's flatc) and FlatBuffers' headers (through the
// schema target's include directory), with shmrec's own school::Student inside.
#include "enrolment.shmrec.hpp"

static bool table_round_trip() {
    static_assert(shmrec::Table<school::Enrolment>);
    flatbuffers::FlatBufferBuilder builder;
    school::Student student{};
    student.id = 7;
    student.name = "Ada";
    builder.Finish(school::CreateEnrolment(builder, &student, 0, builder.CreateString("ok"), 2.0f));
    flatbuffers::Verifier verifier(builder.GetBufferPointer(), builder.GetSize());
    if (!verifier.VerifyBuffer<school::Enrolment>(nullptr)) return false;
    const auto* e = flatbuffers::GetRoot<school::Enrolment>(builder.GetBufferPointer());
    return e->student()->id == 7 && e->student()->name == "Ada" && e->note()->str() == "ok" &&
           shmrec::TableTraits<school::Enrolment>::name == "school.Enrolment";
}
#else
static bool table_round_trip() {
    return true;
}
#endif

// Compiles against the generated headers and links the runtime for real: opening a reader
// pulls in the region and header validation code (which formats its messages with fmt), so a
// link dependency missing from the installed package fails here, not in a user's project.
int main() {
    static_assert(shmrec::Record<consumer::Outer>);
    if (shmrec::RecordTraits<school::Student>::size != 32) return 1;
    if (!table_round_trip()) {
        std::puts("consumer: the table did not read back");
        return 1;
    }
    try {
        auto reader = shmrec::Cell<school::Student>::reader("shmrec_consumer_test_no_such_region");
        std::puts("consumer: opened a region that should not exist");
        return 1;
    } catch (const shmrec::Error& e) {
        if (e.code() != shmrec::ErrorCode::not_found) {
            std::printf("consumer: expected not_found, got %s\n", e.what());
            return 1;
        }
    }
    return 0;
}
