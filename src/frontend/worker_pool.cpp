// SPDX-License-Identifier: MIT
#include "frontend/worker_pool.hpp"

#include "common/fd_passing.hpp"

#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>

namespace ocr::frontend {

WorkerPool::WorkerPool(asio::io_context& io, WorkerSpawner& spawner, Limits limits,
                       std::uint64_t generation)
    : io_(io), spawner_(spawner), limits_(limits), generation_(generation), respawn_timer_(io)
{
}

void WorkerPool::start()
{
    replenish();
}

int WorkerPool::idle() const noexcept
{
    int n = 0;
    for (const auto& [pid, w] : workers_)
        n += w.busy ? 0 : 1;
    return n;
}

bool WorkerPool::saturated() const noexcept
{
    return busy_count_ >= limits_.max_busy && queue_.size() >= limits_.queue_capacity;
}

void WorkerPool::submit(PendingSession session)
{
    if (!try_dispatch(session)) {
        if (queue_.size() >= limits_.queue_capacity)
            spdlog::warn("session queue above its capacity of {} ({} waiting)",
                         limits_.queue_capacity, queue_.size() + 1);
        queue_.push_back(std::move(session));
    }
    replenish();
    notify_capacity();
}

bool WorkerPool::try_dispatch(PendingSession& s)
{
    if (busy_count_ >= limits_.max_busy)
        return false;
    for (auto it = workers_.begin(); it != workers_.end();) {
        Worker& w = it->second;
        if (w.busy || w.generation != s.descriptor.config_generation) {
            ++it;
            continue;
        }
        const std::string bytes = daemon::encode_session(s.descriptor);
        const int err = send_with_fds(w.channel->native_handle(), bytes, {s.connection.get()});
        if (err != 0) {
            // The worker is gone (or its channel is broken); forget it and try another.
            spdlog::warn("worker {} could not take a session: {}", w.pid, std::strerror(err));
            it = workers_.erase(it);
            ++early_deaths_;
            continue;
        }
        w.busy = true;
        w.on_end = std::move(s.on_end);
        ++busy_count_;
        ++dispatched_;
        early_deaths_ = 0;
        // The worker owns the connection now; our copy must not keep it open.
        s.connection.reset();
        return true;
    }
    return false;
}

void WorkerPool::dispatch_queued()
{
    for (auto it = queue_.begin(); it != queue_.end() && busy_count_ < limits_.max_busy;) {
        if (try_dispatch(*it))
            it = queue_.erase(it);
        else
            ++it;
    }
}

void WorkerPool::worker_started(pid_t pid, UniqueFd channel, std::uint64_t generation)
{
    auto& pending = starting_by_generation_[generation];
    if (pending > 0) {
        --pending;
        --starting_;
    }
    if (draining_ || (generation < generation_ &&
                      std::none_of(queue_.begin(), queue_.end(), [&](const PendingSession& s) {
                          return s.descriptor.config_generation == generation;
                      }))) {
        // Not needed any more: closing the channel makes the idle worker exit.
        return;
    }
    Worker w;
    w.pid = pid;
    w.generation = generation;
    w.channel = std::make_unique<asio::posix::stream_descriptor>(io_, channel.release());
    workers_.emplace(pid, std::move(w));
    watch_channel(pid);
    dispatch_queued();
    replenish();
    notify_capacity();
}

void WorkerPool::watch_channel(pid_t pid)
{
    auto it = workers_.find(pid);
    if (it == workers_.end())
        return;
    it->second.channel->async_wait(asio::posix::stream_descriptor::wait_read,
                                   [this, pid](const boost::system::error_code& ec) {
                                       if (ec == asio::error::operation_aborted)
                                           return;
                                       auto w = workers_.find(pid);
                                       if (w == workers_.end())
                                           return;
                                       int err = 0;
                                       auto msg = recv_with_fds(w->second.channel->native_handle(), err);
                                       if (!msg && err == EAGAIN) {
                                           watch_channel(pid);
                                           return;
                                       }
                                       if (msg) {
                                           // Workers send nothing today; ignore and keep watching.
                                           watch_channel(pid);
                                           return;
                                       }
                                       channel_closed(pid);
                                   });
}

void WorkerPool::channel_closed(pid_t pid)
{
    auto it = workers_.find(pid);
    if (it == workers_.end())
        return;
    Worker w = std::move(it->second);
    workers_.erase(it);
    if (w.busy) {
        --busy_count_;
        if (w.on_end)
            w.on_end();
    } else if (!draining_) {
        ++early_deaths_;
    }
    dispatch_queued();
    replenish();
    notify_capacity();
}

void WorkerPool::worker_exited(pid_t pid, int status)
{
    if (WIFSIGNALED(status)) {
        ++crashed_;
        if (WTERMSIG(status) == SIGSYS)
            spdlog::error("worker {} made a system call its filter does not allow and was killed; "
                          "the kernel's audit log (type 1326, SECCOMP) names the call",
                          pid);
        else
            spdlog::warn("worker {} was killed by signal {}", pid, WTERMSIG(status));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        spdlog::debug("worker {} exited with status {}", pid, WEXITSTATUS(status));
    }
    // Normally the channel's end of stream came first; if not, this is the end.
    channel_closed(pid);
}

void WorkerPool::set_limits(Limits limits)
{
    limits_ = limits;
    dispatch_queued();
    replenish();
    notify_capacity();
}

void WorkerPool::spawn_failed(std::uint64_t generation)
{
    auto& pending = starting_by_generation_[generation];
    if (pending > 0) {
        --pending;
        --starting_;
    }
    ++early_deaths_;
    replenish();
}

void WorkerPool::set_generation(std::uint64_t generation)
{
    generation_ = generation;
    for (auto it = workers_.begin(); it != workers_.end();) {
        const bool needed = std::any_of(queue_.begin(), queue_.end(), [&](const PendingSession& s) {
            return s.descriptor.config_generation == it->second.generation;
        });
        if (!it->second.busy && it->second.generation < generation && !needed)
            it = workers_.erase(it); // closing the channel retires the idle worker
        else
            ++it;
    }
    replenish();
}

void WorkerPool::drain()
{
    draining_ = true;
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (!it->second.busy)
            it = workers_.erase(it);
        else
            ++it;
    }
}

void WorkerPool::replenish()
{
    if (draining_)
        return;
    int budget = limits_.max_busy + limits_.spares;
    if (early_deaths_ > 0) {
        // Workers are dying before they take a session (a broken binary, a bad config,
        // resource limits): start one at a time with exponential back-off, not in a loop.
        if (!respawn_allowed_) {
            if (!respawn_pending_) {
                const int shift = std::min(early_deaths_ - 1, 6);
                respawn_pending_ = true;
                respawn_timer_.expires_after(std::chrono::milliseconds(500) * (1 << shift));
                respawn_timer_.async_wait([this](const boost::system::error_code& ec) {
                    respawn_pending_ = false;
                    if (ec)
                        return;
                    respawn_allowed_ = true;
                    replenish();
                    respawn_allowed_ = false;
                });
            }
            return;
        }
        budget = 1;
    }
    // Per generation: idle + starting must cover the queued sessions of that generation,
    // and for the current generation also the spares, all within the N busy limit.
    std::map<std::uint64_t, int> want;
    for (const auto& s : queue_)
        ++want[s.descriptor.config_generation];
    want[generation_] += limits_.spares;
    int room = limits_.max_busy - busy_count_;
    for (auto& [gen, wanted] : want) {
        int have = starting_by_generation_[gen];
        for (const auto& [pid, w] : workers_)
            if (!w.busy && w.generation == gen)
                ++have;
        const int target = std::min(wanted, std::max(room, 0));
        room -= target;
        const int missing = std::min(target - have, budget);
        if (missing > 0) {
            budget -= missing;
            starting_by_generation_[gen] += missing;
            starting_ += missing;
            spawner_.request_workers(missing, gen);
        }
    }
}

void WorkerPool::notify_capacity()
{
    if (capacity_listener_)
        capacity_listener_();
}

} // namespace ocr::frontend
