// SPDX-License-Identifier: MIT
// Sending and receiving one message plus file descriptors over a UNIX socket (SCM_RIGHTS).
#pragma once

#include "common/unique_fd.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr {

/// Largest message our SOCK_SEQPACKET channels carry (descriptors, control records).
inline constexpr std::size_t kMaxIpcMessage = 256 * 1024;
/// Most descriptors one message carries (a reloaded config: its package, the TLS
/// material and the "max connections" lock files).
inline constexpr std::size_t kMaxIpcFds = 32;

/// @brief A received message and the descriptors that came with it.
struct IpcMessage {
    std::string bytes;
    std::vector<UniqueFd> fds;
};

/// @brief Creates a connected SOCK_SEQPACKET pair (close-on-exec).
/// @throw std::system_error on failure.
[[nodiscard]] std::pair<UniqueFd, UniqueFd> make_seqpacket_pair();

/// @brief Sends @p bytes with @p fds attached (blocking unless the socket is non-blocking).
/// @return 0 on success, else the errno value (EAGAIN for a full non-blocking socket).
[[nodiscard]] int send_with_fds(int sock, std::string_view bytes, const std::vector<int>& fds);

/// @brief Receives one message (and any attached descriptors).
/// @return the message; nullopt at end of stream. Sets @p err to the errno value on
///         failure (EAGAIN when a non-blocking socket has nothing yet), 0 otherwise.
///         A truncated message or too many descriptors is reported as EMSGSIZE.
[[nodiscard]] std::optional<IpcMessage> recv_with_fds(int sock, int& err);

} // namespace ocr
