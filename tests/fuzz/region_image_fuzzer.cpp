// libFuzzer target for RELIABILITY C8: arbitrary region images (header + reader board +
// control block + slots) fed to the open-and-drain path of every channel kind.
//
// Each input becomes the whole content of a shared-memory region private to this process
// (/dev/shm/shmrec-fuzz-<pid>), which is then opened as Cell, Ring and Broadcast readers,
// drained with the try_ forms, inspected, and taken over by a writer. shmrec::Error is the
// expected outcome for most inputs; a crash, a sanitizer report or a hang is a finding.
//
// The low two bits of the header's reserved `flags` word (offset 28) pick how much of the
// image the harness repairs first, so that mutations get past the layered checks often enough
// to reach the geometry validation and the data path. A real snapshot has flags 0 and is used
// exactly as it is:
//   0  the image as it is
//   1  mapped_size patched to the image's real size
//   2  as 1, plus identity fixed: magic, format, ABI, header size, state, a valid channel kind
//      and the school::Student record type; geometry fields stay as the input has them
//   3  as 2, plus a consistent geometry for the kind (capacity from the input's capacity field,
//      at most 64 slots) and the image resized to it; control block and slots stay fuzzed
//
// Build and run: `make fuzz` (tests/fuzz/CMakeLists.txt).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "region_header_io.hpp"  // plan_geometry (runtime/src)
#include "shmrec/broadcast.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/detail/channel_setup.hpp"
#include "shmrec/error.hpp"
#include "shmrec/region.hpp"
#include "shmrec/ring.hpp"
#include "student.shmrec.hpp"

namespace {

using school::Student;
using shmrec::detail::RegionHeader;

constexpr std::uint64_t page_size = 4096;
constexpr std::size_t max_drain = 1000;

// Never wait for a creator: an image that reads as "initialising" is final here.
const shmrec::RegionOptions open_options{.permissions = 0600,
                                         .init_timeout = std::chrono::milliseconds(0)};
const shmrec::WaitOptions wait_options{.strategy = shmrec::WaitStrategy::futex,
                                       .spin_iterations = 0,
                                       .liveness_interval = std::chrono::milliseconds(50)};

std::string& region_name() {
    static std::string name = "shmrec-fuzz-" + std::to_string(::getpid());
    return name;
}

void remove_fuzz_region() {
    try {
        shmrec::remove_region(shmrec::Location::memory(region_name()));
    } catch (const shmrec::Error&) {
    }
}

template <class Field>
Field get(const std::vector<std::byte>& image, std::size_t offset) {
    Field v{};
    std::memcpy(&v, image.data() + offset, sizeof v);
    return v;
}

template <class Field>
void put(std::vector<std::byte>& image, std::size_t offset, Field v) {
    std::memcpy(image.data() + offset, &v, sizeof v);
}

#define SHMREC_FIELD(f) offsetof(RegionHeader, f)

// The school::Student spec of `kind` with `capacity` slots (ring and broadcast).
shmrec::RegionSpec student_spec(std::uint32_t kind, std::uint64_t capacity) {
    using namespace shmrec::detail;
    switch (kind) {
        case 1: return channel_spec<CellDescriptor, Student>(CellDescriptor::slot_count);
        case 2: return channel_spec<RingDescriptor, Student>(capacity);
        default: return channel_spec<BroadcastDescriptor, Student>(capacity);
    }
}

void repair_identity(std::vector<std::byte>& image, const shmrec::RegionSpec& spec) {
    put(image, SHMREC_FIELD(magic), shmrec::detail::region_magic);
    put(image, SHMREC_FIELD(format_major), shmrec::format_major);
    put(image, SHMREC_FIELD(format_minor), shmrec::format_minor);
    put(image, SHMREC_FIELD(header_size), static_cast<std::uint32_t>(sizeof(RegionHeader)));
    put(image, SHMREC_FIELD(abi_signature), shmrec::detail::abi_signature());
    put(image, SHMREC_FIELD(channel_kind), static_cast<std::uint32_t>(spec.kind));
    const auto state = get<std::uint32_t>(image, SHMREC_FIELD(state));
    put(image, SHMREC_FIELD(state), state == 2u ? 2u : 1u);  // closed stays closed, else ready
    put(image, SHMREC_FIELD(fingerprint), spec.fingerprint);
    put(image, SHMREC_FIELD(record_size), spec.record_size);
    put(image, SHMREC_FIELD(record_alignment), spec.record_alignment);
    std::byte* name = image.data() + SHMREC_FIELD(record_name);
    std::memset(name, 0, shmrec::detail::max_record_name);
    std::memcpy(name, spec.record_name.data(), spec.record_name.size());
}

// Applies the repair mode chosen by the flags word (see the top of the file).
std::vector<std::byte> prepare(const std::uint8_t* data, std::size_t size) {
    std::vector<std::byte> image(size);
    if (size != 0) std::memcpy(image.data(), data, size);
    if (image.size() < SHMREC_FIELD(flags) + 4) return image;
    const auto flags = get<std::uint32_t>(image, SHMREC_FIELD(flags));
    const unsigned mode = flags & 3u;
    put(image, SHMREC_FIELD(flags), flags & ~3u);
    if (mode == 0) return image;
    if (mode >= 2 && image.size() < sizeof(RegionHeader)) image.resize(sizeof(RegionHeader));
    if (image.size() < SHMREC_FIELD(mapped_size) + 8) return image;

    if (mode >= 2) {
        auto kind = get<std::uint32_t>(image, SHMREC_FIELD(channel_kind));
        if (kind < 1 || kind > 3) kind = kind % 3 + 1;
        const auto capacity_field = get<std::uint64_t>(image, SHMREC_FIELD(capacity));
        const std::uint64_t capacity = std::uint64_t{1} << (capacity_field % 7);
        const shmrec::RegionSpec spec = student_spec(kind, capacity);
        repair_identity(image, spec);
        if (mode == 3) {
            const shmrec::Geometry g = shmrec::detail::plan_geometry(spec, page_size);
            image.resize(g.mapped_size);
            put(image, SHMREC_FIELD(board_offset), g.board_offset);
            put(image, SHMREC_FIELD(board_size), g.board_size);
            put(image, SHMREC_FIELD(data_offset), g.data_offset);
            put(image, SHMREC_FIELD(data_size), g.data_size);
            put(image, SHMREC_FIELD(schema_offset), g.schema_offset);
            put(image, SHMREC_FIELD(schema_length), g.schema_length);
            put(image, SHMREC_FIELD(capacity), g.capacity);
            put(image, SHMREC_FIELD(slot_stride), g.slot_stride);
            std::memcpy(image.data() + g.schema_offset, spec.schema.data(), spec.schema.size());
        }
    }
    put(image, SHMREC_FIELD(mapped_size), static_cast<std::uint64_t>(image.size()));
    return image;
}

#undef SHMREC_FIELD

void write_region(const std::vector<std::byte>& image) {
    const std::string path = "/dev/shm/" + region_name();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || ::fchmod(fd, 0600) != 0) std::abort();  // the harness itself is broken
    std::size_t done = 0;
    while (done < image.size()) {
        const ssize_t n = ::write(fd, image.data() + done, image.size() - done);
        if (n <= 0) std::abort();
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
}

// Keeps the optimiser from discarding what a reader copied out.
volatile std::uint64_t sink;

void consume(const Student& s) { sink = sink + static_cast<std::uint64_t>(s.id) + s.name[19]; }

void drain_cell(const shmrec::Location& where) {
    auto reader = shmrec::Cell<Student>::reader(where, open_options, wait_options);
    Student s{};
    for (int i = 0; i < 3; ++i) {
        const auto r = reader.try_read(s);
        if (r == shmrec::ReadStatus::ok || r == shmrec::ReadStatus::unchanged) consume(s);
        (void)reader.has_update();
    }
    if (reader.read(s, std::chrono::nanoseconds(0)) == shmrec::ReadStatus::ok) consume(s);
    (void)reader.writer_alive();
    (void)reader.closed();
}

void drain_ring(const shmrec::Location& where) {
    auto reader = shmrec::Ring<Student>::reader(where, open_options, wait_options);
    Student s{};
    std::size_t n = 0;
    if (auto sample = reader.try_peek()) {
        consume(*sample);
        sample.release();
        ++n;
    }
    std::array<Student, 8> batch{};
    const auto b = reader.try_read(std::span<Student>(batch));
    for (std::size_t i = 0; i < b.count; ++i) consume(batch[i]);
    n += b.count;
    for (; n < max_drain; ++n) {
        if (reader.try_read(s) != shmrec::ReadStatus::ok) break;
        consume(s);
    }
    (void)reader.read(s, std::chrono::nanoseconds(0));
}

void drain_broadcast(const shmrec::Location& where, shmrec::StartAt start) {
    auto reader = shmrec::Broadcast<Student>::reader(where, start, open_options, wait_options);
    Student s{};
    for (std::size_t n = 0; n < max_drain; ++n) {
        if (reader.try_read(s) != shmrec::ReadStatus::ok) break;
        consume(s);
    }
    (void)reader.read(s, std::chrono::nanoseconds(0));
    sink = sink + reader.lost() + reader.received();
}

// A writer taking over the region (a restarted writer's path): it trusts the image's
// counters to find where to continue.
void take_over(const shmrec::Location& where) {
    Student s{};
    s.id = 42;
    try {
        auto w = shmrec::Cell<Student>::writer(where, shmrec::OpenMode::open_only, open_options,
                                               wait_options);
        (void)w.try_write(s);
    } catch (const shmrec::Error&) {
    }
    try {
        auto w = shmrec::Ring<Student>::writer(where, 0, shmrec::OpenMode::open_only, open_options,
                                               wait_options);
        for (int i = 0; i < 3; ++i) (void)w.try_write(s);
        if (auto loan = w.try_loan()) {
            *loan = s;
            (void)loan.commit();
        }
    } catch (const shmrec::Error&) {
    }
    try {
        auto w = shmrec::Broadcast<Student>::writer(where, 0, shmrec::OpenMode::open_only,
                                                    open_options, wait_options);
        for (int i = 0; i < 3; ++i) (void)w.try_write(s);
    } catch (const shmrec::Error&) {
    }
}

template <class F>
void expect_error_or_ok(F&& f) {
    try {
        f();
    } catch (const shmrec::Error& e) {
        sink = sink + static_cast<std::uint64_t>(e.code()) + std::strlen(e.what());
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    remove_fuzz_region();
    std::atexit(remove_fuzz_region);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const shmrec::Location where = shmrec::Location::memory(region_name());
    write_region(prepare(data, size));
    expect_error_or_ok([&] {
        const shmrec::RegionInfo info = shmrec::inspect_region(where, open_options);
        sink = sink + info.schema.size() + info.record_name.size() + info.geometry.capacity;
    });
    expect_error_or_ok([&] { drain_cell(where); });
    expect_error_or_ok([&] { drain_broadcast(where, shmrec::StartAt::oldest); });
    expect_error_or_ok([&] { drain_broadcast(where, shmrec::StartAt::newest); });
    expect_error_or_ok([&] { drain_ring(where); });  // the consumer writes its head
    take_over(where);
    expect_error_or_ok([&] { drain_ring(where); });  // after a writer changed the image
    return 0;
}
