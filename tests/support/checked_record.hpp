// Self-checking records for the runtime tests: every field of shmrec_test::Checked is derived
// from `seq` and `checksum` covers them all, so a torn copy (words of two different records) or
// a stale slot is detected by checksum_ok() / matches_seq() (both: intact()).
#pragma once

#include <cstdint>
#include <cstring>

#include "test_records.shmrec.hpp"

namespace shmrec_test {

// splitmix64's finaliser: every input bit affects every output bit.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

inline std::uint64_t compute_checksum(const Checked& r) noexcept {
    std::uint64_t t0 = 0, t1 = 0;
    static_assert(sizeof r.text == 16);
    std::memcpy(&t0, r.text.data(), 8);
    std::memcpy(&t1, r.text.data() + 8, 8);
    std::uint64_t h = mix64(r.seq);
    h = mix64(h ^ r.a);
    h = mix64(h ^ r.b);
    h = mix64(h ^ t0);
    return mix64(h ^ t1);
}

// The record with sequence number `seq`.
inline Checked make_checked(std::uint64_t seq) noexcept {
    Checked r{};
    r.seq = seq;
    r.a = mix64(seq ^ 0xa5a5a5a5a5a5a5a5ULL);
    r.b = ~seq * 0x2545f4914f6cdd1dULL;
    for (std::size_t i = 0; i < r.text.size(); ++i) {
        r.text[i] = static_cast<std::uint8_t>((seq >> ((i % 8) * 8)) ^ (i * 37));
    }
    r.checksum = compute_checksum(r);
    return r;
}

// The checksum matches the other fields (no torn copy). Holds for a record whose fields were
// changed after make_checked() as long as the checksum was recomputed (a timestamp in `b`).
inline bool checksum_ok(const Checked& r) noexcept {
    return r.checksum == compute_checksum(r);
}

// Every field is the one make_checked(r.seq) produces.
inline bool matches_seq(const Checked& r) noexcept {
    const Checked expected = make_checked(r.seq);
    return std::memcmp(&expected, &r, sizeof r) == 0;
}

// Intact and exactly the record make_checked(r.seq) produces: no torn, stale or zero-filled
// bytes.
inline bool intact(const Checked& r) noexcept {
    return checksum_ok(r) && matches_seq(r);
}

}  // namespace shmrec_test
