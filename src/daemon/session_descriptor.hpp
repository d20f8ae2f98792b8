// SPDX-License-Identifier: MIT
// What the front-end tells a worker about a session whose handshake it finished.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// @brief A handshake-complete session, as handed to a worker with the client's socket.
///
/// The worker does not take the front-end's word for anything that widens access: it
/// re-reads the module's settings from its own copy of the config (of the same
/// generation) and re-parses the argument list itself.
struct SessionDescriptor {
    std::uint64_t config_generation = 0;
    std::uint64_t connection_id = 0;
    std::string module;
    std::string auth_user;          ///< empty for an anonymous module
    bool read_only = true;          ///< the module's setting after any :ro / :rw auth rule
    int protocol = 0;               ///< negotiated protocol version
    int remote_protocol = 0;        ///< what the client announced
    std::string addr;               ///< client address text (as upstream's %a)
    std::string host;               ///< client host name (as upstream's %h)
    std::vector<std::string> args;  ///< the argument list as received (first batch)
    std::vector<std::string> secluded_args; ///< second batch for -s/--secluded-args, if any
    std::string early_input;        ///< #early_input bytes, if the client sent any
    /// Bytes the client sent after its arguments that the front-end had already read
    /// (the session's input continues with them).
    std::string pending_input;
    std::int64_t handshake_deadline_ms = 0; ///< CLOCK_MONOTONIC ms; 0 = none
};

/// @brief Serializes for the front-end -> worker channel.
[[nodiscard]] std::string encode_session(const SessionDescriptor& s);

/// @brief Parses a descriptor; nullopt when a field is missing or malformed.
[[nodiscard]] std::optional<SessionDescriptor> decode_session(std::string_view bytes);

} // namespace ocr::daemon
