// SPDX-License-Identifier: MIT
// Opening the daemon's listening sockets (done while still privileged, before the drop).
#pragma once

#include "common/unique_fd.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ocr::frontend {

/// @brief Where and how to listen.
struct ListenSpec {
    std::optional<std::string> address; ///< nullopt = every address of every family
    int port = 873;
    int family = 0;                     ///< AF_INET, AF_INET6 or 0 for both
    int backlog = 0;                    ///< 0 = the kernel's maximum
};

/// @brief One bound, listening socket.
struct ListenSocket {
    UniqueFd fd;
    std::string description;            ///< "0.0.0.0:873", "[::]:873"
    bool tls = false;                   ///< a "tls port" socket: clients start with a TLS handshake
};

/// @brief Opens a socket per address getaddrinfo gives for @p spec (upstream
///        socket.c:open_socket_in: SO_REUSEADDR, IPV6_V6ONLY on IPv6 sockets).
/// @return the sockets; fails only if none could be opened.
/// @throw std::runtime_error with the reasons when no socket could be bound.
[[nodiscard]] std::vector<ListenSocket> open_listen_sockets(const ListenSpec& spec);

/// @brief Applies an upstream-style "socket options" list ("SO_SNDBUF=65536,TCP_NODELAY").
/// @return upstream's complaints ("Unknown socket option NAME", ...), which it logs before
///         it goes on.
std::vector<std::string> apply_socket_options(int fd, const std::string& options);

} // namespace ocr::frontend
