// Writes the seed corpus of table_ring_fuzzer (table_ring_fuzzer.cpp has the input format):
// data areas of real school.Enrolment table rings (records built in place and copied, some
// consumed, the buffer wrapped with a padding frame) and record lists of real and broken
// records.
//
//   shmrec_fuzz_make_table_seeds <output-dir>
//
// Regenerate the committed corpus with `cmake --build build-fuzz --target
// shmrec_fuzz_table_corpus` after a format change.
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "enrolment.shmrec.hpp"
#include "shmrec/detail/byte_ring_layout.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/table_ring.hpp"

namespace fs = std::filesystem;
using Ring = shmrec::TableRing<school::Enrolment>;

namespace {

fs::path out_dir;

void write_seed(const std::string& file, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(out_dir / file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + (out_dir / file).string());
}

flatbuffers::Offset<school::Enrolment> build(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t k) {
    school::Student s{};
    s.id = static_cast<std::int64_t>(1000 + k);
    s.name = "student-" + std::to_string(k);
    std::vector<std::string> courses;
    for (std::uint64_t i = 0; i < k % 4; ++i) courses.push_back("course-" + std::to_string(k + i));
    const auto list = courses.empty() ? 0 : fbb.CreateVectorOfStrings(courses);
    return school::CreateEnrolment(fbb, &s, list, fbb.CreateString("note " + std::to_string(k)),
                                   static_cast<float>(k) / 2);
}

std::vector<std::uint8_t> record(std::uint64_t k) {
    flatbuffers::FlatBufferBuilder fbb;
    fbb.Finish(build(fbb, k));
    return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

unsigned log2_of(std::uint64_t capacity) {
    unsigned n = 0;
    while ((std::uint64_t{64} << n) < capacity) ++n;
    return n;
}

// A live ring's data area after `records` writes (alternately in place and copied) of which
// `consumed` were read.
void snapshot(std::uint64_t capacity, int records, int consumed, bool copy_mode) {
    const std::string name = "shmrec-table-seeds-" + std::to_string(::getpid());
    {
        auto w = Ring::writer(name, capacity);
        auto r = Ring::reader(name);
        int written = 0, read = 0;
        for (int k = 0; k < records; ++k) {
            shmrec::WriteStatus s;
            if (k % 2 == 0) {
                auto loan = w.try_loan(160);
                if (!loan) s = loan.status();
                else s = loan.commit(build(loan.builder(), static_cast<std::uint64_t>(k)));
            } else {
                s = w.try_write(record(static_cast<std::uint64_t>(k)));
            }
            if (s == shmrec::WriteStatus::full && read < consumed) {
                if (auto rec = r.try_peek()) ++read;
                --k;
                continue;
            }
            if (s != shmrec::WriteStatus::ok) break;
            ++written;
        }
        while (read < consumed && r.try_peek()) ++read;
        const std::byte* area = shmrec::detail::RegionAccess::data(w.region());
        const std::size_t n = sizeof(shmrec::detail::ByteRingControl) + capacity;
        std::vector<std::uint8_t> seed{static_cast<std::uint8_t>(log2_of(capacity) | (copy_mode ? 8u : 0u))};
        seed.insert(seed.end(), reinterpret_cast<const std::uint8_t*>(area),
                    reinterpret_cast<const std::uint8_t*>(area) + n);
        write_seed("area-cap" + std::to_string(capacity) + "-w" + std::to_string(written) + "-r" +
                       std::to_string(read) + (copy_mode ? "-copy" : ""),
                   seed);
    }
    shmrec::remove_region(name);
}

void append(std::vector<std::uint8_t>& seed, const std::vector<std::uint8_t>& rec) {
    seed.push_back(static_cast<std::uint8_t>(rec.size() & 0xff));
    seed.push_back(static_cast<std::uint8_t>(rec.size() >> 8));
    seed.insert(seed.end(), rec.begin(), rec.end());
}

void record_lists() {
    for (const bool copy_mode : {false, true}) {
        std::vector<std::uint8_t> seed{static_cast<std::uint8_t>(16u | 4u | (copy_mode ? 8u : 0u))};  // 1 KiB
        for (std::uint64_t k = 0; k < 6; ++k) append(seed, record(k));
        write_seed(copy_mode ? "records-valid-copy" : "records-valid", seed);
    }
    // Broken records around valid ones: a root offset past the end, a truncated record, a
    // string's length past the end, and a record deeper than a limit of 2.
    std::vector<std::uint8_t> seed{static_cast<std::uint8_t>(16u | 4u | (2u << 5))};
    auto good = record(3);
    append(seed, good);
    auto far = good;
    const std::uint32_t big = 1u << 20;
    std::memcpy(far.data(), &big, sizeof big);
    append(seed, far);
    append(seed, {good.begin(), good.begin() + static_cast<long>(good.size() / 2)});
    auto bad_string = good;
    for (std::size_t i = 0; i + 4 <= bad_string.size(); i += 4) {
        std::uint32_t v;
        std::memcpy(&v, bad_string.data() + i, 4);
        if (v == 6) {  // "note 3" is 6 characters: its length word
            const std::uint32_t huge = 0x7fffffffu;
            std::memcpy(bad_string.data() + i, &huge, 4);
            break;
        }
    }
    append(seed, bad_string);
    append(seed, record(2));
    write_seed("records-broken", seed);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: shmrec_fuzz_make_table_seeds <output-dir>\n";
        return 2;
    }
    try {
        out_dir = argv[1];
        fs::create_directories(out_dir);
        snapshot(1024, 5, 2, false);
        snapshot(1024, 40, 30, false);   // wrapped: padding frames and an older lap's bytes
        snapshot(512, 40, 36, true);
        snapshot(4096, 12, 0, false);    // full of unread records
        snapshot(256, 1, 0, false);
        record_lists();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "shmrec_fuzz_make_table_seeds: " << e.what() << '\n';
        return 1;
    }
}
