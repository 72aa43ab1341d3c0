#pragma once

#include <flatbuffers/flatbuffers.h>

#include <stdexcept>

namespace shmrec_test {

template <class T, class Table>
void overwrite(const Table& table, flatbuffers::voffset_t slot, T value) {
    // The generated reflection accessors are read-only; every reflection type is a
    // flatbuffers::Table underneath, which can write a field present in the buffer.
    auto& raw = const_cast<flatbuffers::Table&>(reinterpret_cast<const flatbuffers::Table&>(table));
    if (raw.GetOptionalFieldOffset(slot) == 0) {
        throw std::runtime_error("overwrite: the field is not stored (it has its default)");
    }
    raw.SetField<T>(slot, value, T{});
}

}  // namespace shmrec_test
