// GoogleTest printers for shmrec's status enums (found by ADL), so a failed EXPECT_EQ shows
// "timeout" instead of "1-byte object <01>".
#pragma once

#include <ostream>

#include "shmrec/error.hpp"
#include "shmrec/region.hpp"
#include "shmrec/status.hpp"

namespace shmrec {
inline void PrintTo(ReadStatus s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(WriteStatus s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(ErrorCode c, std::ostream* os) { *os << to_string(c); }
inline void PrintTo(RegionState s, std::ostream* os) { *os << to_string(s); }
}  // namespace shmrec
