// Windows implementation of detail/event_word.hpp and platform/wake_scope.hpp: a named
// auto-reset event per (doorbell, sleeper).
//
// WaitOnAddress does not cross processes, so a sleeper waits on an event of its own, named
// "<companion prefix>wake.<doorbell offset in the region>.<sleeper bit>" (object_names.hpp),
// and the waker signals the event of every sleeper registered in the doorbell's registry.
// Lost wake-ups cannot happen: the sleeper creates its event before it checks the word a last
// time, and the waker bumps the word before it looks for events. If the waker looked before
// the event existed, the word had changed before the sleeper's check, which then returns at
// once; otherwise the event stays signalled until the sleeper waits (auto-reset keeps one
// pending wake). A stale pending wake costs one spurious return, which every caller re-checks.
//
// Events are found from the doorbell's address through the scopes the region registers for its
// mappings; the handles are cached per scope and closed with it.
#include "shmrec/detail/event_word.hpp"

#include <windows.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "platform/wake_scope.hpp"
#include "shmrec/detail/fault.hpp"
#include "windows/object_names.hpp"
#include "windows/security.hpp"

namespace shmrec::platform {

namespace {

struct Scope {
    const std::byte* address = nullptr;
    std::size_t size = 0;
    std::uint64_t object_offset = 0;
    std::wstring prefix;  // "<companion prefix>wake."
    std::map<std::pair<std::uint64_t, std::uint32_t>, HANDLE> events;  // (offset, bit) -> event
};

std::mutex scopes_mutex;
std::vector<Scope>& scopes() {
    static std::vector<Scope> all;
    return all;
}

// Creates (sleeper) or opens (waker) an event with only the rights this needs. A sleeper
// uses an event that existed before only if this user owns it: another principal's event
// could be waited on (stealing wake-ups) or left signalled (a busy spin).
HANDLE make_event(const std::wstring& name, bool create) {
    constexpr DWORD rights = SYNCHRONIZE | EVENT_MODIFY_STATE | READ_CONTROL;
    if (!create) return ::OpenEventW(EVENT_MODIFY_STATE, FALSE, name.c_str());
    auto security = windows::SecurityAttributes::owner_only_object();
    if (security.get() == nullptr) return nullptr;
    const HANDLE h = ::CreateEventExW(security.get(), name.c_str(), 0, rights);
    if (h == nullptr || ::GetLastError() != ERROR_ALREADY_EXISTS) return h;
    if (windows::foreign_owner(h, windows::ObjectKind::kernel_object)) {
        ::CloseHandle(h);
        return nullptr;
    }
    return h;
}

// The event of `sleeper` on the doorbell at `word`: created by a sleeper, only opened by a
// waker (null when nobody created it yet, or it cannot be used: the caller then polls).
HANDLE event_for(const void* word, std::uint32_t sleeper, bool create) noexcept {
    try {
        const std::lock_guard lock(scopes_mutex);
        const auto* at = static_cast<const std::byte*>(word);
        for (Scope& scope : scopes()) {
            if (at < scope.address || at >= scope.address + scope.size) continue;
            const std::uint64_t offset =
                scope.object_offset + static_cast<std::uint64_t>(at - scope.address);
            const auto key = std::make_pair(offset, sleeper);
            if (const auto it = scope.events.find(key); it != scope.events.end()) return it->second;
            const std::wstring name =
                scope.prefix + std::to_wstring(offset) + L"." + std::to_wstring(sleeper);
            const HANDLE h = make_event(name, create);
            if (h == nullptr) return nullptr;
            try {
                scope.events.emplace(key, h);
            } catch (...) {
                ::CloseHandle(h);
                throw;
            }
            return h;
        }
    } catch (...) {  // std::bad_alloc
    }
    return nullptr;
}

}  // namespace

void register_wake_scope(const void* address, std::size_t size, std::uint64_t object_offset,
                         Handle object, const Location& where) {
    Scope scope;
    scope.address = static_cast<const std::byte*>(address);
    scope.size = size;
    scope.object_offset = object_offset;
    scope.prefix = windows::companion_prefix(object, where) + L"wake.";
    const std::lock_guard lock(scopes_mutex);
    scopes().push_back(std::move(scope));
}

void unregister_wake_scope(const void* address) noexcept {
    const std::lock_guard lock(scopes_mutex);
    auto& all = scopes();
    const auto it = std::find_if(all.begin(), all.end(),
                                 [&](const Scope& s) { return s.address == address; });
    if (it == all.end()) return;
    for (const auto& [key, h] : it->events) ::CloseHandle(h);
    all.erase(it);
}

}  // namespace shmrec::platform

namespace shmrec::detail {

WordWait wait_on_word(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      std::chrono::nanoseconds timeout, std::uint32_t sleeper) noexcept {
    if (timeout <= std::chrono::nanoseconds::zero()) return WordWait::timed_out;
    const HANDLE event = platform::event_for(&word, sleeper, true);
    // The window the protocol is about: the event exists, the word not yet checked again
    // (tests/reliability/windows_protocol_test.cpp publishes while the sleeper is stopped here).
    SHMREC_FAULT_POINT("wait.after_event");
    // Acquire, after the event exists: see the file comment.
    if (word.load(std::memory_order_acquire) != expected) return WordWait::value_changed;
    // Whole milliseconds, rounded up: never return before the timeout for nothing.
    const auto ms = std::min<std::int64_t>(
        std::chrono::ceil<std::chrono::milliseconds>(timeout).count(), INFINITE - 1);
    if (event == nullptr) {  // the doorbell is in no registered mapping, or no event: poll
        ::Sleep(static_cast<DWORD>(std::min<std::int64_t>(ms, 1)));
        return WordWait::woken;
    }
    switch (::WaitForSingleObject(event, static_cast<DWORD>(ms))) {
        case WAIT_OBJECT_0: return WordWait::woken;
        case WAIT_TIMEOUT: return WordWait::timed_out;
        default: return WordWait::woken;  // treat as spurious: callers always re-check
    }
}

void wake_word(const std::atomic<std::uint32_t>& word, const WaiterRegistry& sleepers) noexcept {
    sleepers.for_each_registered([&](std::uint32_t sleeper) {
        if (const HANDLE event = platform::event_for(&word, sleeper, false)) ::SetEvent(event);
    });
}

void yield_thread() noexcept { ::SwitchToThread(); }

void sleep_a_little() noexcept { ::Sleep(1); }

void sleep_at_least(std::chrono::microseconds duration) noexcept {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(duration).count();
    ::Sleep(static_cast<DWORD>(std::clamp<std::int64_t>(ms, 0, INFINITE - 1)));
}

}  // namespace shmrec::detail
