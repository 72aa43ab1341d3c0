// GoogleTest printers for shmrec's status enums (found by ADL), so a failed EXPECT_EQ shows
// "timeout" instead of "1-byte object <01>".
#pragma once

#include <ostream>

#include "shmrec/cell.hpp"
#include "shmrec/error.hpp"
#include "shmrec/wait.hpp"

namespace shmrec {
inline void PrintTo(WaitStatus s, std::ostream* os) {
    *os << to_string(s);
}
inline void PrintTo(CellRead r, std::ostream* os) {
    *os << to_string(r);
}
inline void PrintTo(ErrorCode c, std::ostream* os) {
    *os << to_string(c);
}
inline void PrintTo(RegionState s, std::ostream* os) {
    *os << static_cast<unsigned>(s);
}
}  // namespace shmrec
