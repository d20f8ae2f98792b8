// SPDX-License-Identifier: MIT
// Building the server's OpenSSL context from the handed-over PEM bytes and the tls settings.
#pragma once

#include "daemon/config.hpp"
#include "daemon/tls_material.hpp"
#include "frontend/asio_ssl.hpp"

#include <memory>

namespace ocr::frontend {

/// @brief A ready server context: certificate chain and key loaded, versions, ciphers and
///        client verification set. Sessions hold a shared_ptr, so a reload that builds a new
///        context leaves the live ones on theirs.
/// @throw std::runtime_error naming the failing step and OpenSSL's reason.
[[nodiscard]] std::shared_ptr<ssl::context> make_tls_context(const daemon::TlsMaterial& material,
                                                             const daemon::GlobalSettings& g);

/// @brief OpenSSL's most recent error reason as text ("unknown error" when its queue is empty);
///        clears the queue.
[[nodiscard]] std::string openssl_error_text();

} // namespace ocr::frontend
