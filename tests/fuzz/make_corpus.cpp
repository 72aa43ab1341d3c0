// Writes the seed corpus of region_image_fuzzer: snapshots of real regions of every channel
// kind (the bytes of their /dev/shm files, taken while the channel is live) and a few
// hand-made edge cases.
//
//   shmrec_fuzz_make_corpus <output-dir>
//
// Regenerate the committed corpus with `cmake --build build-fuzz --target shmrec_fuzz_corpus`
// after a format change; every file is a few pages.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "shmrec/broadcast.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/region.hpp"
#include "shmrec/ring.hpp"
#include "student.shmrec.hpp"

namespace fs = std::filesystem;
using school::Student;
using shmrec::detail::RegionHeader;

namespace {

fs::path out_dir;

std::string region_name(const std::string& tag) {
    return "shmrec-corpus-" + std::to_string(::getpid()) + "-" + tag;
}

std::vector<char> read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_seed(const std::string& file, const std::vector<char>& bytes) {
    std::ofstream out(out_dir / file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + (out_dir / file).string());
}

std::vector<char> snapshot(const std::string& name) { return read_all("/dev/shm/" + name); }

Student student(std::int64_t id) {
    Student s{};
    s.id = id;
    std::snprintf(reinterpret_cast<char*>(s.name.data()), s.name.size(), "student-%lld",
                  static_cast<long long>(id));
    return s;
}

// Sets the harness's repair mode (low bits of the reserved flags word; see the fuzzer).
std::vector<char> with_mode(std::vector<char> bytes, std::uint32_t mode) {
    std::uint32_t flags = 0;
    std::memcpy(&flags, bytes.data() + offsetof(RegionHeader, flags), 4);
    flags = (flags & ~3u) | mode;
    std::memcpy(bytes.data() + offsetof(RegionHeader, flags), &flags, 4);
    return bytes;
}

void cells() {
    const std::string name = region_name("cell");
    {
        auto w = shmrec::Cell<Student>::writer(name);
        for (int i = 1; i <= 3; ++i) {
            if (w.try_write(student(i)) != shmrec::WriteStatus::ok) {
                throw std::runtime_error("cell try_write refused");
            }
        }
        write_seed("cell-3-published", snapshot(name));
        // Edge cases derived from a real header.
        const auto real = snapshot(name);
        write_seed("edge-truncated-header", {real.begin(), real.begin() + 100});
        write_seed("edge-header-only", {real.begin(), real.begin() + sizeof(RegionHeader)});
        std::vector<char> half(real.begin(), real.begin() + static_cast<long>(real.size() / 2));
        write_seed("edge-truncated-half", half);
        write_seed("edge-truncated-half-mode1", with_mode(half, 1));
        auto magic = real;
        magic[0] = static_cast<char>(magic[0] ^ 0x55);
        write_seed("edge-wrong-magic", magic);
        auto swapped = real;
        std::uint64_t m = 0;
        std::memcpy(&m, swapped.data(), 8);
        m = __builtin_bswap64(m);
        std::memcpy(swapped.data(), &m, 8);
        write_seed("edge-other-byte-order", swapped);
        auto initialising = real;
        std::memset(initialising.data() + offsetof(RegionHeader, state), 0, 4);
        write_seed("edge-initialising", initialising);
    }  // closes the cell
    shmrec::remove_region(name);
}

void rings() {
    for (std::uint64_t capacity : {1, 2, 8}) {
        const std::string name = region_name("ring" + std::to_string(capacity));
        {
            auto w = shmrec::Ring<Student>::writer(name, capacity);
            auto r = shmrec::Ring<Student>::reader(name);
            // Fill, consume part, refill: the slots hold two generations of sequence numbers.
            std::int64_t id = 0;
            while (w.try_write(student(++id)) == shmrec::WriteStatus::ok) {
            }
            Student s{};
            for (std::uint64_t i = 0; i < (capacity + 1) / 2; ++i) (void)r.try_read(s);
            while (w.try_write(student(++id)) == shmrec::WriteStatus::ok) {
            }
            const std::string tag = "ring-capacity" + std::to_string(capacity);
            write_seed(tag, snapshot(name));
            if (capacity == 8) write_seed(tag + "-mode3", with_mode(snapshot(name), 3));
        }
        shmrec::remove_region(name);
    }
}

void broadcasts() {
    for (std::uint64_t capacity : {4, 8}) {
        const std::string name = region_name("broadcast" + std::to_string(capacity));
        {
            auto w = shmrec::Broadcast<Student>::writer(name, capacity);
            // More records than slots: the ring has wrapped (versions of two laps).
            for (std::int64_t id = 1; id <= static_cast<std::int64_t>(capacity) * 2 + 3; ++id) {
                if (w.try_write(student(id)) != shmrec::WriteStatus::ok) {
                    throw std::runtime_error("broadcast try_write refused");
                }
            }
            const std::string tag = "broadcast-capacity" + std::to_string(capacity);
            write_seed(tag, snapshot(name));
            if (capacity == 4) write_seed(tag + "-mode2", with_mode(snapshot(name), 2));
        }
        if (capacity == 8) write_seed("broadcast-capacity8-closed", snapshot(name));
        shmrec::remove_region(name);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " <output-dir>\n";
        return 2;
    }
    out_dir = argv[1];
    try {
        fs::create_directories(out_dir);
        write_seed("edge-empty", {});
        write_seed("edge-zero-page", std::vector<char>(4096, 0));
        cells();
        rings();
        broadcasts();
    } catch (const std::exception& e) {
        std::cerr << "shmrec_fuzz_make_corpus: " << e.what() << "\n";
        return 1;
    }
    std::uintmax_t total = 0;
    int files = 0;
    for (const auto& entry : fs::directory_iterator(out_dir)) {
        total += entry.file_size();
        ++files;
    }
    std::cout << "shmrec_fuzz_make_corpus: " << files << " files, " << total << " bytes in "
              << out_dir.string() << "\n";
    return 0;
}
