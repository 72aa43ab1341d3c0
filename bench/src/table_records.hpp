// The benchmark's table records (bench/schemas/tables.fbs), built and read the same way by
// every transport that carries them: TableRing (cases_tables.cpp), Boost message_queue
// (cases_tables.cpp) and the in-process cost measurements.
//
//   Quote  ~100 bytes: seq, a 16-character string, a vector of 8 uint32
//   Blob   64 KiB of [ubyte] written where the builder puts it (no copy from a source buffer)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "sum_words.hpp"
#include "tables.shmrec.hpp"

namespace bench::tables {

using ::bench::Blob;  // flatc's, in the schema's namespace
using ::bench::Quote;

inline constexpr std::size_t quote_levels = 8;
inline constexpr std::size_t symbol_length = 16;
inline constexpr std::size_t blob_bytes = 64 * 1024;

// The string's content varies from record to record, its length does not.
inline const char* symbol(std::uint64_t seq) noexcept {
    static constexpr const char* names[16] = {
        "XNAS:AAPL.Q-0001", "XNAS:MSFT.Q-0002", "XNYS:IBM..N-0003", "XETR:SAP..D-0004",
        "XNAS:NVDA.Q-0005", "XNYS:KO...N-0006", "XLON:VOD..L-0007", "XPAR:AIR..P-0008",
        "XNAS:AMZN.Q-0009", "XNYS:GE...N-0010", "XETR:BMW..D-0011", "XTKS:7203.T-0012",
        "XNAS:GOOG.Q-0013", "XNYS:JPM..N-0014", "XSWX:NESN.S-0015", "XAMS:ASML.A-0016"};
    return names[seq & 15];
}

// Record `seq` (the sentinel too): what a writer does per record, allocation-free once the
// builder has its memory.
inline flatbuffers::Offset<Quote> build_quote(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t seq) {
    std::array<std::uint32_t, quote_levels> levels;
    for (std::size_t i = 0; i < levels.size(); ++i) levels[i] = static_cast<std::uint32_t>(seq + i);
    const auto l = fbb.CreateVector(levels.data(), levels.size());
    const auto s = fbb.CreateString(symbol(seq), symbol_length);
    return CreateQuote(fbb, seq, s, l);
}

// What a reader does with a record: every field through the accessors. Returns a checksum
// (kept, so nothing is optimised away); 0 means a field is missing.
inline std::uint64_t read_quote(const Quote& q) noexcept {
    const auto* s = q.symbol();
    const auto* l = q.levels();
    if (s == nullptr || l == nullptr || l->size() != quote_levels) return 0;
    std::uint64_t sum = s->size() + static_cast<unsigned char>(s->Get(s->size() - 1));
    for (const std::uint32_t v : *l) sum += v;
    return sum | 1;
}

// A 64 KiB record built in place: the builder reserves the vector where it will stay and the
// payload is written there once (memset: every byte written, at the speed a producer of real
// data could at best reach).
inline flatbuffers::Offset<Blob> build_blob(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t seq) {
    std::uint8_t* data = nullptr;
    const auto v = fbb.CreateUninitializedVector(blob_bytes, &data);
    std::memset(data, static_cast<int>(seq & 0xff), blob_bytes);
    return CreateBlob(fbb, seq, v);
}

// Reads every byte of the payload once (a sum over its 64-bit words) and checks one of them:
// a reader that touched only the sequence number would never pull the payload across cores.
// Returns 0 when the payload is not what record `seq` carries.
inline std::uint64_t read_blob(const Blob& b) noexcept {
    const auto* d = b.data();
    if (d == nullptr || d->size() != blob_bytes) return 0;
    const std::uint8_t* p = d->data();
    const std::uint64_t sum = sum_words(p, blob_bytes);
    const std::uint64_t expect = (b.seq() & 0xff) * 0x0101010101010101ULL;
    std::uint64_t last;
    std::memcpy(&last, p + blob_bytes - 8, sizeof last);
    return last == expect ? (sum | 1) : 0;
}

// The bytes a loan of `max_size` lends (ByteRing: the frame's body, 24-byte header off a
// 16-aligned frame), and whether `build` stays inside them: a FlatBufferBuilder over that
// many bytes that never asks its allocator twice. A record that outgrew its loan would be
// copied (TableLoan::commit) and the "in place" figure would be a lie; the cases check once,
// with a record of the largest size (every field present).
template <class Build>
bool fits_in_loan(std::size_t max_size, Build&& build) {
    class Counting final : public flatbuffers::Allocator {
    public:
        std::uint8_t* allocate(std::size_t size) override {
            ++calls;
            return new std::uint8_t[size];
        }
        void deallocate(std::uint8_t* p, std::size_t) override { delete[] p; }
        int calls = 0;
    } counting;
    const std::size_t lent = (24 + max_size + 15) / 16 * 16 - 24;
    {
        flatbuffers::FlatBufferBuilder fbb(lent, &counting, false);
        const auto root = build(fbb, 1);  // not 0: a seq of 0 is the default, left out
        fbb.TrackMinAlign(8);             // as TableLoan::commit does
        fbb.Finish(root);
    }
    return counting.calls == 1;
}

}  // namespace bench::tables
