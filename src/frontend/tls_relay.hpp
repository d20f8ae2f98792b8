// SPDX-License-Identifier: MIT
// Copies bytes between a client's TLS stream and the plain socketpair end of its worker.
#pragma once

#include "frontend/client_io.hpp"

namespace ocr::frontend {

/// @brief Relays both directions at once until both have ended.
///
/// The client's close_notify (or EOF) becomes an end of stream for the worker; the worker's
/// end of stream becomes close_notify for the client. An error on either side ends both.
/// @param tls The established TLS stream (its socket is closed on return).
/// @param local The front-end's end of the worker's socketpair (closed on return).
asio::awaitable<void> relay_tls(TlsStream& tls, asio::local::stream_protocol::socket& local);

} // namespace ocr::frontend
