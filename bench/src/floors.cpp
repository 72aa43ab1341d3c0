#include "floors.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cases.hpp"
#include "sum_words.hpp"

namespace bench {
namespace {

// The same pause the library's wait loop uses between polls.
inline void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

std::uint32_t* word(Line& l) noexcept {
    // The low half of the 64-bit value is the futex word (little endian assumed, as on
    // every machine this runs on; checked below).
    static_assert(std::endian::native == std::endian::little);
    return reinterpret_cast<std::uint32_t*>(&l.value);
}

void futex_wait(std::uint32_t* w, std::uint32_t expected) {
    timespec limit{0, 100'000'000};  // re-check the watchdog every 100 ms
    ::syscall(SYS_futex, w, FUTEX_WAIT, expected, &limit, nullptr, 0);
}
void futex_wake(std::uint32_t* w) { ::syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0); }

// ---- cross-core copy floor ----

struct CopyHeader {
    Line tail;  // A only: the next position A writes, stored at the end of each run
    Line head;  // B only: positions < head are copied out, their slots free
};
static_assert(sizeof(CopyHeader) % cache_line == 0);

struct CopySlot {
    std::atomic<std::uint64_t> seq;  // p + 1 once block p is in the slot
};
inline constexpr std::size_t copy_payload_offset = sizeof(CopySlot);
// Set in a slot's seq instead of a block: the run is over (it takes a position, so the next
// run's blocks never meet a stale mark).
inline constexpr std::uint64_t copy_stop = std::uint64_t{1} << 63;

std::size_t copy_ring_size(std::uint64_t slots, std::uint64_t stride) {
    return sizeof(CopyHeader) + static_cast<std::size_t>(slots * stride);
}

void check_copy_geometry(std::uint64_t slots, std::uint64_t stride) {
    if (slots == 0 || stride == 0 || stride % cache_line != 0 || !std::has_single_bit(slots) ||
        slots > (std::uint64_t{1} << 24)) {
        throw std::invalid_argument(fmt::format("copy floor: bad geometry {} slots of {} bytes (slots: a power of two; stride: a multiple of 64)", slots, stride));
    }
}

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

void* map_copy_ring(const std::string& name, std::size_t size, bool create) {
    const std::string path = "/" + name;
    const int fd = create ? ::shm_open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)
                          : ::shm_open(path.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) throw_errno("shm_open " + path);
    if (create && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        ::close(fd);
        throw_errno("ftruncate " + path);
    }
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw_errno("mmap " + path);
    return p;
}

// A private, cache-line-aligned buffer of `size` bytes.
struct AlignedBuffer {
    explicit AlignedBuffer(std::size_t size)
        : p(static_cast<std::byte*>(std::aligned_alloc(cache_line, (size + cache_line - 1) / cache_line * cache_line))) {
        if (p == nullptr) throw std::bad_alloc();
    }
    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;
    ~AlignedBuffer() { std::free(p); }
    std::byte* p;
};

// What B read, kept so the copies out cannot be dropped as dead stores.
volatile std::uint64_t g_copy_sink = 0;

}  // namespace

CopyRing::CopyRing(std::string name, void* base, std::uint64_t slots, std::uint64_t stride, bool owner)
    : name_(std::move(name)), base_(base), slots_(slots), stride_(stride), owner_(owner) {}

CopyRing CopyRing::create(const std::string& name, std::uint64_t slots, std::uint64_t stride) {
    check_copy_geometry(slots, stride);
    register_name(name);
    void* p = map_copy_ring(name, copy_ring_size(slots, stride), true);
    new (p) CopyHeader{};
    return CopyRing(name, p, slots, stride, true);
}

CopyRing CopyRing::open(const std::string& name, std::uint64_t slots, std::uint64_t stride) {
    check_copy_geometry(slots, stride);
    return CopyRing(name, map_copy_ring(name, copy_ring_size(slots, stride), false), slots, stride, false);
}

CopyRing::CopyRing(CopyRing&& other) noexcept
    : name_(std::move(other.name_)),
      base_(std::exchange(other.base_, nullptr)),
      slots_(other.slots_),
      stride_(other.stride_),
      owner_(std::exchange(other.owner_, false)) {}

CopyRing::~CopyRing() {
    if (base_ == nullptr) return;
    ::munmap(base_, copy_ring_size(slots_, stride_));
    if (owner_) ::shm_unlink(("/" + name_).c_str());
}

std::uint64_t CopyRing::send(std::size_t block, std::chrono::nanoseconds run, bool in_place) {
    if (copy_payload_offset + block > stride_) throw std::invalid_argument("copy floor: block larger than a slot");
    auto& h = *static_cast<CopyHeader*>(base_);
    std::byte* const slots = static_cast<std::byte*>(base_) + sizeof(CopyHeader);
    const std::uint64_t mask = slots_ - 1;
    auto slot = [&](std::uint64_t pos) { return slots + (pos & mask) * stride_; };

    AlignedBuffer src(block);  // one private block, copied in again and again
    std::memset(src.p, 0x5a, block);
    Watchdog dog;
    const std::uint64_t start = h.tail.value.load(std::memory_order_relaxed);
    std::uint64_t head = h.head.value.load(std::memory_order_acquire);
    std::uint64_t pos = start;
    const std::int64_t deadline = now_ns() + run.count();
    auto wait_for_room = [&] {
        while (pos - head >= slots_) {
            head = h.head.value.load(std::memory_order_acquire);
            if (pos - head < slots_) break;
            relax();
            dog.poll();
        }
    };
    for (;;) {
        // The clock every 64 blocks, as the ring's sender reads it once per batch of 64.
        if (((pos - start) & 63) == 0 && now_ns() >= deadline) break;
        wait_for_room();
        std::byte* s = slot(pos);
        if (in_place) {
            std::memset(s + copy_payload_offset, static_cast<int>(pos & 0xff), block);
        } else {
            std::memcpy(s + copy_payload_offset, src.p, block);
        }
        reinterpret_cast<CopySlot*>(s)->seq.store(pos + 1, std::memory_order_release);
        ++pos;
    }
    const std::uint64_t sent = pos - start;
    wait_for_room();
    reinterpret_cast<CopySlot*>(slot(pos))->seq.store((pos + 1) | copy_stop, std::memory_order_release);
    h.tail.value.store(pos + 1, std::memory_order_relaxed);
    return sent;
}

std::uint64_t CopyRing::receive(std::size_t block, bool in_place) {
    if (copy_payload_offset + block > stride_) throw std::invalid_argument("copy floor: block larger than a slot");
    auto& h = *static_cast<CopyHeader*>(base_);
    std::byte* const slots = static_cast<std::byte*>(base_) + sizeof(CopyHeader);
    const std::uint64_t mask = slots_ - 1;
    auto slot = [&](std::uint64_t pos) { return slots + (pos & mask) * stride_; };

    AlignedBuffer dst(block);  // one private block, every copy out lands in it
    Watchdog dog;
    const std::uint64_t start = h.head.value.load(std::memory_order_relaxed);
    // The head is published after every `every` blocks and whenever the next block is not
    // there yet: as cheap as the ring's consumer (once per batch read), never holding back
    // more than a quarter of the ring from the writer.
    const std::uint64_t every = std::clamp<std::uint64_t>(slots_ / 4, 1, 64);
    const std::uint64_t every_mask = every - 1;  // a power of two: slots_ is one
    std::uint64_t pos = start;
    std::uint64_t published = start;
    std::uint64_t sink = 0;
    for (;;) {
        std::byte* s = slot(pos);
        auto& seq = reinterpret_cast<CopySlot*>(s)->seq;
        const std::uint64_t want = pos + 1;
        std::uint64_t seen;
        while ((seen = seq.load(std::memory_order_acquire)) != want) {
            if (published != pos) {
                h.head.value.store(pos, std::memory_order_release);
                published = pos;
            }
            if (seen == (want | copy_stop)) {
                h.head.value.store(pos + 1, std::memory_order_release);  // the mark's slot too
                g_copy_sink = sink;
                return pos - start;
            }
            relax();
            dog.poll();
        }
        if (in_place) {
            sink += sum_words(s + copy_payload_offset, block);
        } else {
            std::memcpy(dst.p, s + copy_payload_offset, block);
            // The copy is used: the buffer escapes to the optimiser and one word of it is read.
            asm volatile("" : : "r"(dst.p) : "memory");
            std::uint64_t w = 0;
            std::memcpy(&w, dst.p, std::min<std::size_t>(block, sizeof w));
            sink += w;
        }
        ++pos;
        if (((pos - start) & every_mask) == 0) {
            h.head.value.store(pos, std::memory_order_release);
            published = pos;
        }
    }
}

void cacheline_pingpong(Control& ctl, Side side, std::uint64_t n, std::int64_t* samples) {
    Watchdog dog;
    // Both counters equal the number of round trips done so far: each run continues from them.
    if (side == Side::a) {
        const std::uint64_t base = ctl.ping.value.load(std::memory_order_relaxed);
        for (std::uint64_t i = 0; i < n; ++i) {
            const std::uint64_t v = base + i + 1;
            const std::int64_t t0 = now_ns();
            ctl.ping.value.store(v, std::memory_order_release);
            while (ctl.pong.value.load(std::memory_order_acquire) != v) {
                relax();
                dog.poll();
            }
            samples[i] = now_ns() - t0;
        }
    } else {
        const std::uint64_t base = ctl.pong.value.load(std::memory_order_relaxed);
        for (std::uint64_t i = 0; i < n; ++i) {
            const std::uint64_t v = base + i + 1;
            while (ctl.ping.value.load(std::memory_order_acquire) != v) {
                relax();
                dog.poll();
            }
            ctl.pong.value.store(v, std::memory_order_release);
        }
    }
}

void futex_pingpong(Control& ctl, Side side, std::uint64_t n, std::int64_t* samples) {
    Watchdog dog;
    auto& mine = side == Side::a ? ctl.futex_ab : ctl.futex_ba;
    auto& theirs = side == Side::a ? ctl.futex_ba : ctl.futex_ab;
    // Sleep at once (no spin) and wake on every message: the bare cost of a futex round trip.
    auto await = [&](std::uint64_t v) {
        for (;;) {
            const std::uint64_t seen = theirs.value.load(std::memory_order_acquire);
            if (seen == v) return;
            futex_wait(word(theirs), static_cast<std::uint32_t>(seen));
            dog.check();
        }
    };
    auto post = [&](std::uint64_t v) {
        mine.value.store(v, std::memory_order_release);
        futex_wake(word(mine));
    };
    const std::uint64_t base = mine.value.load(std::memory_order_relaxed);
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t v = base + i + 1;
        if (side == Side::a) {
            const std::int64_t t0 = now_ns();
            post(v);
            await(v);
            samples[i] = now_ns() - t0;
        } else {
            await(v);
            post(v);
        }
    }
}

double memcpy_bandwidth(std::size_t block, std::size_t footprint, std::chrono::nanoseconds run) {
    const std::size_t blocks = std::max<std::size_t>(1, footprint / block);
    std::vector<std::byte> src(blocks * block, std::byte{0x5a});
    std::vector<std::byte> dst(blocks * block, std::byte{0});
    std::uint64_t bytes = 0;
    const std::int64_t start = now_ns();
    std::int64_t now = start;
    while (now - start < run.count()) {
        for (std::size_t i = 0; i < blocks; ++i) {
            std::memcpy(dst.data() + i * block, src.data() + i * block, block);
            // Keep every copy: the destination "escapes" to the optimiser.
            asm volatile("" : : "r"(dst.data()) : "memory");
        }
        bytes += blocks * block;
        now = now_ns();
    }
    return static_cast<double>(bytes) * 1e9 / static_cast<double>(now - start);
}

}  // namespace bench
