// SPDX-License-Identifier: MIT
// What one TLS session negotiated and who its client certificate names, for logs and auth.
#pragma once

#include "daemon/config.hpp"

#include <openssl/types.h>

#include <optional>
#include <string>

namespace ocr::frontend {

/// @brief The facts of an established TLS session.
struct TlsSessionInfo {
    std::string version;             ///< "TLSv1.3"
    std::string cipher;              ///< "TLS_AES_256_GCM_SHA384"
    std::optional<std::string> subject; ///< client certificate subject (RFC 2253), if one was verified
    std::optional<std::string> user; ///< the name "tls user from" takes from it, if any
};

/// @brief Reads @p ssl after its handshake. A certificate counts only if OpenSSL verified it.
/// @param user_from Which certificate field names the rsync user.
[[nodiscard]] TlsSessionInfo describe_tls_session(SSL* ssl, daemon::TlsUserFrom user_from);

} // namespace ocr::frontend
