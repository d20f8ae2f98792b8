// SPDX-License-Identifier: MIT
// The start of a transfer session once its options are accepted (upstream
// compat.c:setup_protocol and negotiate_the_strings on a daemon server): the setup bytes,
// the client's name lists, and the checksum and compression settled from them.
#pragma once

#include "daemon/module_policy.hpp"
#include "daemon/server_options.hpp"
#include "protocol/checksum_negotiation.hpp"
#include "protocol/compression.hpp"
#include "transfer/connection.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace ocr::worker {

/// @brief What setup decided.
struct StartedProtocol {
    daemon::ProtocolSetupPlan plan;
    std::int32_t seed = 0;
    protocol::ChecksumSelection checksums;
    /// nullopt: plain tokens (no -z, or a level that turns compression off).
    std::optional<protocol::CompressionSetting> compression;
};

/// @brief Why setup ended the session. Upstream is not multiplexing yet at this point, so
///        only the daemon log sees the text; the client sees the connection close.
struct StartFailure {
    std::string log_text; ///< may be empty (upstream says nothing)
    int exit_code = 4;
};

/// @brief Writes the setup bytes and settles checksum and compression.
/// @param conn the session's connection, not multiplexed yet.
/// @param options the accepted options (setup_protocol adjusts a few of them).
/// @throw ProtocolError when the client's stream ends or breaks.
[[nodiscard]] std::variant<StartedProtocol, StartFailure> start_protocol(transfer::Connection& conn,
                                                                         daemon::ServerOptions& options);

} // namespace ocr::worker
