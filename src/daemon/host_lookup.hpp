// SPDX-License-Identifier: MIT
// The client's address text and confirmed host name, as upstream clientname.c determines them.
#pragma once

#include "daemon/access.hpp"

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// @brief A client host name with what upstream logs while finding it.
struct ClientName {
    /// The confirmed name, or "UNKNOWN".
    std::string name;
    /// Lines upstream writes to the daemon log (no trailing newline), e.g.
    /// "name lookup failed for ::1: Name or service not known".
    std::vector<std::string> log_lines;
};

/// @brief Upstream clientname.c:client_name with its log lines. Blocking (DNS/NSS).
///
/// "0.0.0.0" and unparsable addresses give "UNKNOWN"; otherwise the address is looked up in
/// reverse (NI_NAMEREQD, names longer than 99 bytes fail), and the name is kept only when a
/// forward lookup of it in the same address family yields the address again (same scope for
/// IPv6). No further check is made on the characters of the name.
/// @param addr The peer address text (address_text() output or a PROXY-supplied address).
/// @return The name or "UNKNOWN", and the log lines.
[[nodiscard]] ClientName lookup_client_name(std::string_view addr);

/// @brief Upstream clientname.c:client_name — reverse lookup of addr, then forward-confirm;
///        "UNKNOWN" on failure. Same as lookup_client_name(addr).name. Blocking.
/// @param addr The peer address text.
/// @return The confirmed name or "UNKNOWN".
[[nodiscard]] std::string reverse_lookup_confirmed(std::string_view addr);

/// @brief Text form of a peer address as upstream prints it (client_addr): IPv4-mapped IPv6 shown
///        how upstream shows it.
///
/// Upstream (clientname.c:client_sockaddr) turns an IPv4-mapped IPv6 peer (::ffff:a.b.c.d, what
/// a dual-stack socket reports for an IPv4 client) into plain IPv4 first, so it prints
/// "a.b.c.d"; other addresses are printed by getnameinfo(NI_NUMERICHOST), IPv6 with "%scope"
/// when it has a scope id. Not blocking.
/// @param sa The peer's socket address (getpeername()).
/// @param len Its length.
/// @return The text, or "" when getnameinfo() cannot render @p sa (upstream's value then).
///         glibc renders an AF_UNIX peer as "localhost".
[[nodiscard]] std::string address_text(const sockaddr* sa, socklen_t len);

/// @brief Forward lookups through the system resolver (getaddrinfo). Blocking.
class SystemNameResolver final : public NameResolver {
public:
    /// @brief Which address families a looked-up name contributes.
    enum class Families {
        Ipv4Only, ///< Upstream: gethostbyname() answers IPv4 only (an AAAA-only name fails).
        Both,     ///< Also IPv6 addresses (a deviation; lets IPv6 peers match host names).
    };

    /// @brief Creates the resolver.
    /// @param families Which families to return; the default matches upstream.
    explicit SystemNameResolver(Families families = Families::Ipv4Only) noexcept
        : families_(families)
    {
    }

    /// @copydoc NameResolver::addresses_of
    std::optional<std::vector<std::string>> addresses_of(std::string_view hostname) override;

private:
    Families families_;
};

} // namespace ocr::daemon
