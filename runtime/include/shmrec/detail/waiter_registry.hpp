// Who is asleep on a doorbell: one bit per waiter, each bit owned by the holder of one lock
// slot of the region (a reader's slot, a ring's consumer or writer role). The publisher checks
// the bits after every publish (one cache line) and makes the wake system call only when one
// is set.
//
// A waiter that dies asleep leaves its bit set; the publisher would then pay a wake system
// call on every publish, for ever. So the publisher reaps, at most once per liveness interval
// and only while some bit is set: for each set bit it tries to take the owner's lock slot. The
// kernel released that lock when the owner died, so taking it proves the owner dead, and
// holding it keeps a new owner from claiming the slot while the bit is cleared (a new owner
// moves to another slot, or retries its role lock). LMDB's reader table and
// mdb_reader_check() are the model. A new owner clears its bit when it claims the slot.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>

namespace shmrec::detail {

class WaiterRegistry {
public:
    WaiterRegistry() = default;
    WaiterRegistry(std::atomic<std::uint64_t>* words, std::uint32_t slots)
        : words_(words), slots_(slots) {}

    // Waiter, before it sleeps. Seq_cst: the Dekker store of park() (detail/endpoint.hpp).
    void enter(std::uint32_t slot) const noexcept {
        word(slot).fetch_or(bit(slot), std::memory_order_seq_cst);
    }
    // Waiter, after it woke; also a new owner of the slot, clearing a dead predecessor's bit.
    // Relaxed: the bit only decides whether the publisher bothers to wake anyone.
    void leave(std::uint32_t slot) const noexcept {
        word(slot).fetch_and(~bit(slot), std::memory_order_relaxed);
    }

    // Publisher, after its full fence: is anyone registered? Relaxed loads: the fence before
    // them is the Dekker barrier.
    bool anyone() const noexcept {
        std::uint64_t any = 0;
        for (std::uint32_t w = 0; w < word_count(); ++w) {
            any |= words_[w].load(std::memory_order_relaxed);
        }
        return any != 0;
    }

    // Publisher: calls `visit(bit)` for every registered waiter (relaxed loads, as anyone()).
    template <class Visit>
    void for_each_registered(Visit&& visit) const noexcept {
        for (std::uint32_t w = 0; w < word_count(); ++w) {
            std::uint64_t set = words_[w].load(std::memory_order_relaxed);
            while (set != 0) {
                const auto bit_index = w * 64 + static_cast<std::uint32_t>(std::countr_zero(set));
                set &= set - 1;
                visit(bit_index);
            }
        }
    }

    // Publisher: clears the bit of every registered waiter whose owner is dead. `hold(slot)`
    // takes the owner's lock slot if it is free (the owner is dead), `release(slot)` gives it
    // back. Returns how many registrations were reaped.
    template <class Hold, class Release>
    std::uint32_t reap(Hold&& hold, Release&& release) const noexcept {
        std::uint32_t reaped = 0;
        for_each_registered([&](std::uint32_t slot) {
            if (slot >= slots_) {  // nobody can own it: only a hostile peer sets it
                leave(slot);
                return;
            }
            if (!hold(slot)) return;
            leave(slot);
            release(slot);
            ++reaped;
        });
        return reaped;
    }

private:
    std::uint32_t word_count() const noexcept { return (slots_ + 63) / 64; }
    std::atomic<std::uint64_t>& word(std::uint32_t slot) const noexcept { return words_[slot / 64]; }
    static std::uint64_t bit(std::uint32_t slot) noexcept { return std::uint64_t{1} << (slot % 64); }

    std::atomic<std::uint64_t>* words_ = nullptr;
    std::uint32_t slots_ = 0;
};

}  // namespace shmrec::detail
