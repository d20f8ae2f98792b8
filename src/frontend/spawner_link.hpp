// SPDX-License-Identifier: MIT
// The front-end's end of the channel to the privileged spawner.
#pragma once

#include "common/unique_fd.hpp"
#include "daemon/lock_files.hpp"
#include "frontend/asio.hpp"
#include "frontend/worker_pool.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

namespace ocr::frontend {

/// @brief Sends spawn/reload requests and dispatches the spawner's announcements.
class SpawnerLink final : public WorkerSpawner {
public:
    struct Handlers {
        std::function<void(pid_t, UniqueFd, std::uint64_t)> worker_started;
        std::function<void(pid_t, int)> worker_exited;
        std::function<void(std::uint64_t)> spawn_failed;
        /// (generation, config package memfd, TLS material memfd or an invalid fd)
        std::function<void(std::uint64_t, UniqueFd, UniqueFd, daemon::LockFileTable)> config_loaded;
        std::function<void(const std::string&)> config_failed;
        std::function<void()> lost; ///< the spawner is gone
    };

    SpawnerLink(asio::io_context& io, UniqueFd control, Handlers handlers);

    /// @brief Starts reading announcements.
    void start();
    void request_workers(int count, std::uint64_t generation) override;
    /// @brief Asks the spawner to re-read the configuration.
    void request_reload();
    /// @brief Tells the spawner that no worker of a generation older than @p generation is needed.
    void forget_before(std::uint64_t generation);
    /// @brief Closes the channel; the spawner then exits.
    void close();

private:
    void send(const std::string& bytes);
    void wait_readable();
    void handle(const std::string& bytes, std::vector<UniqueFd> fds);

    asio::posix::stream_descriptor channel_;
    Handlers handlers_;
    bool closed_ = false;
};

} // namespace ocr::frontend
