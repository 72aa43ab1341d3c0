// The bridge's view of a distributed engine: a topic's identity announced and discovered, its
// batches published and received, waits that another thread can cut short. Exporter and
// importer use only this; cyclone_transport.hpp is the one implementation (Eclipse Cyclone
// DDS) and the only part of the bridge that sees an engine's headers, so a second engine
// (Zenoh) is a second implementation, not a change elsewhere.
//
// Delivery is what the bridge's QoS profile asks of the engine (docs/bridge.md, "QoS"):
// batches reliable and in order from one publisher, flow-controlled (publish() waits while
// the receivers' queues are full); the latest identity kept for late subscribers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "wire.hpp"

namespace shmrec::bridge {

// The engine failed (could not start, refused an entity, lost its connection to itself).
class TransportError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class Wake : std::uint8_t {
    ready,    // what was waited for is there
    timeout,  // not yet
    woken,    // Transport::wake() was called (now or before): stop waiting
};

// The subscribers that receive a publisher's batches.
struct Subscriptions {
    std::size_t now = 0;     // receiving now
    std::uint64_t ever = 0;  // every one that has subscribed so far: a new one makes it grow
};

class Publisher {
  public:
    virtual ~Publisher() = default;
    // Makes `identity` the topic's identity, for subscribers present and to come.
    virtual void announce(const Identity& identity) = 0;
    virtual Subscriptions subscribers() = 0;
    // Waits until at least one subscriber receives the batches.
    virtual Wake wait_for_subscriber(std::chrono::nanoseconds timeout) = 0;
    // Sends one batch. False when the receivers' queues stayed full for the engine's blocking
    // time: nothing was sent, send it again (or give up when stopping).
    [[nodiscard]] virtual bool publish(const BatchView& batch) = 0;
    // The newest report of what an importer has written (a ring's: Subscriber::report_written)
    // since the last call; nullopt if none.
    virtual std::optional<Written> take_written() = 0;
    // Waits until a report not taken yet is there.
    virtual Wake wait_for_written(std::chrono::nanoseconds timeout) = 0;
};

class Subscriber {
  public:
    virtual ~Subscriber() = default;
    // Waits until an identity not taken yet is there.
    virtual Wake wait_for_identity(std::chrono::nanoseconds timeout) = 0;
    // The newest identity received since the last call; nullopt if none. (The engine drops
    // what it cannot decode; what it decodes is checked by the caller: wire.hpp.)
    virtual std::optional<Identity> take_identity() = 0;
    // Waits until a batch or an identity not taken yet is there; while a listener is set
    // (listen()), only for notify(), Transport::wake() or the timeout: the data is the
    // listener's.
    virtual Wake wait(std::chrono::nanoseconds timeout) = 0;
    // Makes the wait() in progress, or else the next one, return Wake::ready (once): how a
    // listener hands work it must not wait for itself to the thread in wait().
    virtual void notify() = 0;
    // Calls `on_data` from the engine's own receive threads when batches or an identity arrive,
    // so they are taken without waking another thread first. Calls may overlap: the caller
    // serialises what it does in them. Data that was there before is not announced. An empty
    // function removes the listener, once the calls in progress have returned.
    virtual void listen(std::function<void()> on_data) = 0;
    // Starts receiving batches; before, only identities (take_batches() hands none). An
    // importer calls it once its region is open, so one that refuses its region never counts
    // as a receiver of the batches (an exporter waiting for one would publish to it).
    virtual void receive_batches() = 0;
    // Hands up to `max` received batches to `visit`, in the order they were published, and
    // returns how many. A view lends the engine's buffer: valid during its visit only.
    virtual std::size_t take_batches(std::size_t max,
                                     const std::function<void(const BatchView&)>& visit) = 0;
    // Tells the exporter what has been written into the region (an importer of a ring).
    virtual void report_written(const Written& written) = 0;
};

class Transport {
  public:
    virtual ~Transport() = default;
    // The engine and its version, for status lines: "Cyclone DDS 0.10.2".
    virtual std::string engine() const = 0;
    // Endpoints of topic T (wire.hpp, topic_problem(): a valid name).
    virtual std::unique_ptr<Publisher> publisher(std::string_view topic) = 0;
    virtual std::unique_ptr<Subscriber> subscriber(std::string_view topic) = 0;
    // From any thread, also a signal-handling one: every wait of this transport's endpoints
    // in progress or to come returns Wake::woken.
    virtual void wake() noexcept = 0;
};

}  // namespace shmrec::bridge
