#include "outer.shmrec.hpp"
#include "student.shmrec.hpp"

int main() {
    static_assert(shmrec::Record<consumer::Outer>);
    return shmrec::RecordTraits<school::Student>::size == 32 ? 0 : 1;
}
