// SPDX-License-Identifier: MIT
// "hosts allow" / "hosts deny" / "proxy protocol hosts" matching, as upstream access.c does it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// Host name used when the reverse lookup (or its forward confirmation) failed.
/// Upstream: clientname.c default_name.
inline constexpr std::string_view kUnknownHost = "UNKNOWN";
/// Host name used when "reverse lookup" is off. Upstream: clientserver.c undetermined_hostname.
inline constexpr std::string_view kUndeterminedHost = "UNDETERMINED";

/// @brief Forward lookups of names written in hosts lists; blocking, the daemon runs it off its
///        event loop.
class NameResolver {
public:
    virtual ~NameResolver() = default;

    /// @brief Resolves a host name written in a hosts list (upstream uses gethostbyname()).
    /// @param hostname The (lower-cased) name from the list.
    /// @return The addresses in the text form the daemon uses for peers (compared to the peer
    ///         address as text, like upstream compares with inet_ntoa()); nullopt when the name
    ///         does not resolve at all (which makes a "hosts deny" entry match: fail closed).
    virtual std::optional<std::vector<std::string>> addresses_of(std::string_view hostname) = 0;

    /// @brief Netgroup membership for `@netgroup` entries (upstream: innetgr(group, host, 0, 0)).
    ///        The default calls the C library's innetgr(), which may block on NSS and is not
    ///        thread-safe (glibc: MT-Unsafe race:netgrent), so call it from one thread at a time.
    /// @param netgroup The group name without '@' (lower-cased, as upstream passes it).
    /// @param host The client's host name (may be "UNKNOWN" or "UNDETERMINED").
    /// @return True when @p host is a member.
    virtual bool in_netgroup(std::string_view netgroup, std::string_view host);
};

/// @brief A resolver that answers from a fixed table, e.g. filled from a batch of lookups made
///        ahead of time for names_needing_lookup(). Names not in the table do not resolve.
class PrefetchedNameResolver final : public NameResolver {
public:
    /// @brief Records the answer for @p hostname (nullopt: it did not resolve).
    /// @param hostname The name exactly as names_needing_lookup() returned it.
    /// @param addresses The addresses, or nullopt.
    void set(std::string hostname, std::optional<std::vector<std::string>> addresses);

    /// @copydoc NameResolver::addresses_of
    std::optional<std::vector<std::string>> addresses_of(std::string_view hostname) override;

private:
    std::map<std::string, std::optional<std::vector<std::string>>, std::less<>> table_;
};

/// @brief Who is asking for access.
struct AccessQuery {
    /// Peer address as text, as address_text() (or a trusted PROXY header) gives it.
    std::string_view addr;
    /// "UNDETERMINED" when reverse lookup is off, "UNKNOWN" when it failed, else the name.
    std::string_view host = kUndeterminedHost;
    /// The module's "forward lookup" setting.
    bool forward_lookup = true;
};

/// @brief Outcome of an access check, with what upstream would log.
struct AccessDecision {
    bool allowed = true;
    /// Set when the host was "UNDETERMINED" and a plain host name entry matched by forward
    /// lookup: upstream (clientserver.c:rsync_module) then shows that lower-cased entry as the
    /// host for the rest of the module request: the "rsync allowed access" / "denied" log line
    /// and "@ERROR: access denied" text, auth log lines and the "rsync on/to ..." line. It does
    /// not change RSYNC_HOST_NAME (set before the check) or the log-format %h.
    std::optional<std::string> host_name;
    /// Lines upstream writes to the daemon log while matching (no trailing newline), e.g.
    /// "malformed mask in 10.0.0.0/33".
    std::vector<std::string> log_lines;
};

/// @brief Full form of allow_access(). Upstream: access.c:allow_access.
///
/// An empty list is unset. If "hosts allow" is set and matches, access is allowed; if it is set,
/// does not match and there is no "hosts deny", access is refused. Otherwise a matching
/// "hosts deny" refuses and anything else is allowed.
/// @param hosts_allow The module's "hosts allow" value (empty: unset).
/// @param hosts_deny The module's "hosts deny" value (empty: unset).
/// @param query The peer.
/// @param resolver Used for plain host names (when forward lookup is on) and `@netgroup`s.
/// @return The decision.
[[nodiscard]] AccessDecision check_access(std::string_view hosts_allow, std::string_view hosts_deny,
                                          const AccessQuery& query, NameResolver& resolver);

/// @brief Whether the peer may use the module (see check_access()).
/// @param hosts_allow The module's "hosts allow" value (empty: unset).
/// @param hosts_deny The module's "hosts deny" value (empty: unset).
/// @param query The peer.
/// @param resolver Used for plain host names and `@netgroup`s.
/// @return True when access is allowed.
[[nodiscard]] bool allow_access(std::string_view hosts_allow, std::string_view hosts_deny,
                                const AccessQuery& query, NameResolver& resolver);

/// @brief Full form of allow_proxy_protocol_peer(). Upstream: access.c:allow_proxy_protocol_peer.
///
/// The list is matched like "hosts allow" for the direct socket peer, with forward lookup off and
/// the host name "UNDETERMINED"; an empty list trusts nobody.
/// @param proxy_protocol_hosts The global "proxy protocol hosts" value.
/// @param addr The direct socket peer's address text.
/// @param resolver Only used for `@netgroup` entries.
/// @return The decision (host_name is never set).
[[nodiscard]] AccessDecision check_proxy_protocol_peer(std::string_view proxy_protocol_hosts,
                                                       std::string_view addr,
                                                       NameResolver& resolver);

/// @brief Whether the direct peer may send a PROXY header (see check_proxy_protocol_peer()).
/// @param proxy_protocol_hosts The global "proxy protocol hosts" value.
/// @param addr The direct socket peer's address text.
/// @param resolver Only used for `@netgroup` entries.
/// @return True when the peer is trusted.
[[nodiscard]] bool allow_proxy_protocol_peer(std::string_view proxy_protocol_hosts,
                                             std::string_view addr, NameResolver& resolver);

/// @brief For prefetching: which tokens of a list would need a forward lookup (so the caller can
///        batch them).
/// @param list A "hosts allow"/"hosts deny" value.
/// @return The lower-cased names, each once, in list order.
[[nodiscard]] std::vector<std::string> names_needing_lookup(std::string_view list);

} // namespace ocr::daemon
