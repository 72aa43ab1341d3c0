#include <shmrec/shmrec.hpp>

#include "outer.shmrec.hpp"
#include "student.shmrec.hpp"

#include <cstdio>

// Compiles against the generated headers and links the runtime for real: opening a reader
// pulls in the region and header validation code (which formats its messages with fmt), so a
// link dependency missing from the installed package fails here, not in a user's project.
int main() {
    static_assert(shmrec::Record<consumer::Outer>);
    if (shmrec::RecordTraits<school::Student>::size != 32) return 1;
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
