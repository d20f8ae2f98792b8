// SPDX-License-Identifier: MIT
// Reads and writes of the daemon handshake over either a plain socket or its TLS stream.
#pragma once

#include "frontend/asio_ssl.hpp"

namespace ocr::frontend {

/// @brief The TLS stream type of a connection: it borrows the socket, which outlives it.
using TlsStream = ssl::stream<tcp::socket&>;

/// @brief The client's byte stream during the handshake: TLS when @c tls is set, else plain.
struct ClientIo {
    tcp::socket& socket;
    TlsStream* tls = nullptr;

    /// @brief Reads what is available into @p buf (at least one byte unless @p ec is set).
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buf, boost::system::error_code& ec);
    /// @brief Writes all of @p buf.
    asio::awaitable<void> write(asio::const_buffer buf, boost::system::error_code& ec);
    /// @brief Sends TLS close_notify (waiting at most @p limit for the peer's), then closes.
    asio::awaitable<void> finish(std::chrono::milliseconds limit);
};

} // namespace ocr::frontend
