// SPDX-License-Identifier: MIT
// Parser of the PROXY protocol header (v1 text, v2 binary) a load balancer sends first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::daemon {

/// Longest v1 line, "\r\n" included (the PROXY protocol spec; upstream reads at most this).
inline constexpr std::size_t kProxyV1MaxLength = 107;
/// The fixed part of a v2 header: 12-byte signature, version/command, family, length.
inline constexpr std::size_t kProxyV2FixedLength = 16;
/// Largest v2 payload we accept. Upstream (clientname.c:read_proxy_protocol_header) reads the
/// header into a 232-byte buffer and refuses a longer one; we keep its limit.
inline constexpr std::size_t kProxyV2MaxPayload = 216;

/// @brief One end of the proxied connection.
struct ProxyEndpoint {
    std::string addr;        ///< numeric address text, as %a shows it
    std::uint16_t port = 0;
    bool operator==(const ProxyEndpoint&) const = default;
};

/// @brief Outcome of parse_proxy_header().
struct ProxyParse {
    enum class Status {
        NeedMore, ///< a valid header may still follow: read more and parse again
        Done,     ///< a complete header: the first @c consumed bytes are it
        Invalid,  ///< not a header we accept: @c reason says why
    };
    Status status = Status::NeedMore;
    std::size_t consumed = 0;
    int version = 0; ///< 1 or 2 when Done
    /// Set when the header names the client (PROXY TCP4/TCP6); absent for v1 UNKNOWN, v2 LOCAL
    /// and v2 families other than TCP, where the socket's own peer stands.
    std::optional<ProxyEndpoint> source;
    std::optional<ProxyEndpoint> destination;
    std::string reason;
};

/// @brief Parses the PROXY header at the start of @p bytes (everything read so far).
///
/// Stateless: call again with the grown buffer after NeedMore. Never looks past the header,
/// so bytes after @c consumed belong to whatever follows (the greeting or a TLS hello).
/// @param bytes The connection's first bytes.
/// @return NeedMore, Done or Invalid.
[[nodiscard]] ProxyParse parse_proxy_header(std::string_view bytes);

} // namespace ocr::daemon
