// SPDX-License-Identifier: MIT
// Messages between the front-end and the privileged spawner (SOCK_SEQPACKET, TLV bodies).
#pragma once

#include <cstdint>

namespace ocr::frontend::spawner_msg {

/// TLV tags used in spawner messages.
enum Tag : std::uint16_t {
    kType = 1,       ///< one of the kType* strings below
    kCount = 2,      ///< number of workers to spawn
    kPid = 3,        ///< worker pid
    kStatus = 4,     ///< wait status of an exited worker
    kGeneration = 5, ///< config generation
    kText = 6,       ///< human-readable problems
};

// Front-end -> spawner
inline constexpr const char* kSpawn = "spawn";       ///< {kCount, kGeneration}
inline constexpr const char* kReload = "reload";     ///< {}
inline constexpr const char* kForget = "forget";     ///< {kGeneration}: no more workers of older ones

// Spawner -> front-end
inline constexpr const char* kWorker = "worker";     ///< {kPid, kGeneration} + the worker channel fd
inline constexpr const char* kExited = "exited";     ///< {kPid, kStatus}
/// {kGeneration} + a memfd holding the package (+ a memfd with the TLS material when TLS is on)
inline constexpr const char* kConfig = "config";
inline constexpr const char* kConfigFailed = "config-failed"; ///< {kText}
inline constexpr const char* kSpawnFailed = "spawn-failed";   ///< {kGeneration, kText}

} // namespace ocr::frontend::spawner_msg
