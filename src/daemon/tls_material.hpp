// SPDX-License-Identifier: MIT
// The certificate, key and CA bytes the privileged side reads and hands to the front-end.
#pragma once

#include "daemon/config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace ocr::daemon {

/// @brief PEM bytes of the TLS files named by the config (read by root; never sent to workers).
struct TlsMaterial {
    std::string cert_chain_pem; ///< "tls cert file": leaf first, then intermediates
    std::string key_pem;        ///< "tls key file" (defaults to the cert file)
    std::string ca_pem;         ///< "tls ca file", empty when unset
};

/// @brief The TLS port to listen on for @p g, or 0 when TLS is off (no certificate).
[[nodiscard]] int tls_port_for(const GlobalSettings& g);

/// @brief Reads the files @p g names. Only call when tls_port_for(g) != 0.
/// @return The bytes, or nullopt with @p error set to a message that names the file.
[[nodiscard]] std::optional<TlsMaterial> read_tls_material(const GlobalSettings& g, std::string& error);

/// @brief Serializes for the spawner -> front-end channel.
[[nodiscard]] std::string encode_tls_material(const TlsMaterial& m);

/// @brief Parses encode_tls_material()'s output; nullopt when malformed.
[[nodiscard]] std::optional<TlsMaterial> decode_tls_material(std::string_view bytes);

} // namespace ocr::daemon
