// SPDX-License-Identifier: MIT
// The bounded queue of handshake-complete sessions and the pool of pre-spawned workers.
#pragma once

#include "common/unique_fd.hpp"
#include "daemon/session_descriptor.hpp"
#include "frontend/asio.hpp"

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>

namespace ocr::frontend {

/// @brief A session waiting for (or handed to) a worker.
struct PendingSession {
    /// The client connection: the TCP socket itself, or for TLS the worker's end of the
    /// socketpair the front-end relays to.
    UniqueFd connection;
    daemon::SessionDescriptor descriptor;
    /// Called exactly once when the session is over: its worker exited, or it was dropped.
    std::function<void()> on_end;
};

/// @brief Asks the privileged side for workers (implemented by SpawnerLink).
class WorkerSpawner {
public:
    virtual ~WorkerSpawner() = default;
    /// @brief Requests @p count new idle workers built with config @p generation.
    virtual void request_workers(int count, std::uint64_t generation) = 0;
};

/// @brief Worker pool and bounded queue (front-end side; single-threaded, on the io_context).
///
/// At most `max_busy` (N) sessions run at once; `spares` (S) idle workers are kept ready
/// so that a session never waits for a process to start; at most `queue_capacity` (2N)
/// sessions wait for a worker. A session only goes to a worker started with the same
/// config generation its handshake used.
class WorkerPool {
public:
    struct Limits {
        int max_busy = 1;
        int spares = 1;
        std::size_t queue_capacity = 2;
    };

    WorkerPool(asio::io_context& io, WorkerSpawner& spawner, Limits limits, std::uint64_t generation);

    /// @brief Starts the initial spares.
    void start();

    /// @brief Queues (or immediately dispatches) a session. The caller must have checked
    ///        has_queue_room(); a session beyond capacity is still accepted (never dropped)
    ///        but counted as overflow.
    void submit(PendingSession session);

    /// @brief True while the queue can take another session.
    [[nodiscard]] bool has_queue_room() const noexcept { return queue_.size() < limits_.queue_capacity; }
    /// @brief True when N sessions run and the queue is full: stop accepting.
    [[nodiscard]] bool saturated() const noexcept;

    /// @brief A worker announced by the spawner: now idle, waiting on @p channel.
    void worker_started(pid_t pid, UniqueFd channel, std::uint64_t generation);
    /// @brief The spawner reaped @p pid with wait status @p status.
    void worker_exited(pid_t pid, int status);

    /// @brief New limits (after a reload).
    void set_limits(Limits limits);

    /// @brief The spawner could not start a worker of @p generation.
    void spawn_failed(std::uint64_t generation);

    /// @brief New config generation: idle workers of older ones are retired.
    void set_generation(std::uint64_t generation);

    /// @brief Stops keeping spares; idle workers are told to exit (shutdown).
    void drain();

    /// @brief Called whenever saturated() may have changed or a session ended.
    void set_capacity_listener(std::function<void()> cb) { capacity_listener_ = std::move(cb); }

    [[nodiscard]] int busy() const noexcept { return busy_count_; }
    [[nodiscard]] int idle() const noexcept;
    [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }
    [[nodiscard]] int starting() const noexcept { return starting_; }
    [[nodiscard]] std::uint64_t sessions_dispatched() const noexcept { return dispatched_; }
    [[nodiscard]] std::uint64_t workers_crashed() const noexcept { return crashed_; }

private:
    struct Worker {
        pid_t pid = 0;
        std::uint64_t generation = 0;
        std::unique_ptr<asio::posix::stream_descriptor> channel;
        bool busy = false;
        std::function<void()> on_end;
    };

    void dispatch_queued();
    bool try_dispatch(PendingSession& s);
    void watch_channel(pid_t pid);
    void channel_closed(pid_t pid);
    void replenish();
    void notify_capacity();

    asio::io_context& io_;
    WorkerSpawner& spawner_;
    Limits limits_;
    std::uint64_t generation_;
    std::map<pid_t, Worker> workers_;
    std::deque<PendingSession> queue_;
    int busy_count_ = 0;
    int starting_ = 0;                       ///< requested from the spawner, not yet announced
    std::map<std::uint64_t, int> starting_by_generation_;
    bool draining_ = false;
    std::uint64_t dispatched_ = 0;
    std::uint64_t crashed_ = 0;
    int early_deaths_ = 0;                   ///< workers that died before taking a session
    asio::steady_timer respawn_timer_;
    bool respawn_pending_ = false;
    bool respawn_allowed_ = false;
    std::function<void()> capacity_listener_;
};

} // namespace ocr::frontend
