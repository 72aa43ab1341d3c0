// POSIX fork guard (platform/fork_guard.hpp): pthread_atfork handlers that blank out every
// region descriptor and mapping in the child.
#include "platform/fork_guard.hpp"

#include "shmrec/detail/fork_guard.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <vector>

namespace shmrec::platform {

namespace {

// Locked across fork() by the prepare handler, so the child sees a consistent list and can
// unlock it without another thread ever holding it there.
std::mutex registry_mutex;
std::vector<int>& descriptors() {
    static std::vector<int> fds;
    return fds;
}
struct Mapping {
    void* address;
    std::size_t size;
};
std::vector<Mapping>& mappings() {
    static std::vector<Mapping> maps;
    return maps;
}

void before_fork() { registry_mutex.lock(); }
void in_parent() { registry_mutex.unlock(); }
void in_child() {
    // Async-signal-safe calls only (the parent may have had other threads).
    const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (const int fd : descriptors()) {
        // The descriptor number stays valid for the handle that owns it (its later close()
        // closes /dev/null); the region's open file description loses this reference, so its
        // locks live and die with the parent.
        if (null_fd >= 0) ::dup3(null_fd, fd, O_CLOEXEC);
    }
    if (null_fd >= 0) ::close(null_fd);
    // Same address and size, so the handle's own munmap later releases exactly this.
    for (const Mapping& m : mappings()) {
        ::mmap(m.address, m.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    }
    detail::fork_generation_counter.fetch_add(1, std::memory_order_relaxed);
    registry_mutex.unlock();
}

void install_handlers_once() {
    static std::once_flag once;
    std::call_once(once, [] { ::pthread_atfork(before_fork, in_parent, in_child); });
}

}  // namespace

void track_handle(Handle fd) {
    install_handlers_once();
    const std::lock_guard lock(registry_mutex);
    descriptors().push_back(fd);
}

void untrack_handle(Handle fd) noexcept {
    const std::lock_guard lock(registry_mutex);
    auto& fds = descriptors();
    const auto it = std::find(fds.begin(), fds.end(), fd);
    if (it != fds.end()) fds.erase(it);
}

void track_mapping(void* address, std::size_t size) {
    install_handlers_once();
    const std::lock_guard lock(registry_mutex);
    mappings().push_back({address, size});
}

void untrack_mapping(void* address) noexcept {
    const std::lock_guard lock(registry_mutex);
    auto& maps = mappings();
    const auto it = std::find_if(maps.begin(), maps.end(),
                                 [&](const Mapping& m) { return m.address == address; });
    if (it != maps.end()) maps.erase(it);
}

}  // namespace shmrec::platform
