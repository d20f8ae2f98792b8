// SPDX-License-Identifier: MIT
// The privileged spawner: a tiny root process that starts workers and re-reads the config.
#pragma once

#include "common/unique_fd.hpp"
#include "daemon/lock_files.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <variant>

namespace ocr::app {

/// @brief Config bytes for workers (a serialized package) or the reason loading failed.
struct ReloadOutcome {
    bool ok = false;
    std::string package; ///< when ok
    std::string problems; ///< when not ok: one problem per line
    /// Encoded TLS material for the front-end only (empty: TLS off); never given to workers.
    std::string tls_material;
    /// The lock files of the new config, opened by the privileged spawner (the front-end
    /// could not open a root-only file).
    daemon::LockFileTable lock_files;
};

/// @brief What the spawner needs; it owns every descriptor given here.
struct SpawnerSetup {
    UniqueFd control;         ///< SOCK_SEQPACKET to the front-end
    UniqueFd executable;      ///< O_PATH descriptor of our own binary (exec'd for workers)
    std::string package;      ///< generation-1 config package
    UniqueFd log_fd;          ///< log file to hand to workers, or invalid (syslog/stderr)
    std::function<ReloadOutcome()> reload; ///< re-reads the configuration from disk
};

/// @brief Runs the spawner loop; returns (for _exit) when the front-end goes away.
///
/// It reads nothing from the network: only requests from the front-end, which it treats
/// as untrusted (counts are bounded, unknown generations refused). Each worker is a
/// fork+exec of our own binary in worker mode with fd 3 = its channel to the front-end,
/// fd 4 = a sealed memfd holding the config package, fd 5 = the log file (if any).
int run_spawner(SpawnerSetup setup);

/// @brief Writes @p bytes into a sealed, read-only memfd.
/// @throw std::system_error on failure.
[[nodiscard]] UniqueFd make_sealed_memfd(const std::string& name, const std::string& bytes);

/// @brief Reads a whole (small) descriptor from offset 0; bounded by @p max_bytes.
/// @throw std::runtime_error on failure or when larger than the bound.
[[nodiscard]] std::string read_whole_fd(int fd, std::size_t max_bytes);

} // namespace ocr::app
