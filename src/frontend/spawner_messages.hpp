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
    kLockPaths = 7,  ///< the lock files of a config, in the order of kLockErrnos
    kLockErrnos = 8, ///< per lock file: "0" (its descriptor follows) or open()'s errno
};

// Front-end -> spawner
inline constexpr const char* kSpawn = "spawn";       ///< {kCount, kGeneration}
inline constexpr const char* kReload = "reload";     ///< {}
inline constexpr const char* kForget = "forget";     ///< {kGeneration}: no more workers of older ones

// Spawner -> front-end
inline constexpr const char* kWorker = "worker";     ///< {kPid, kGeneration} + the worker channel fd
inline constexpr const char* kExited = "exited";     ///< {kPid, kStatus}
/// {kGeneration, kLockPaths, kLockErrnos} + a memfd holding the package (+ a memfd with the
/// TLS material when TLS is on) + the descriptor of each lock file that opened, in order
inline constexpr const char* kConfig = "config";
inline constexpr const char* kConfigFailed = "config-failed"; ///< {kText}
inline constexpr const char* kSpawnFailed = "spawn-failed";   ///< {kGeneration, kText}

} // namespace ocr::frontend::spawner_msg
