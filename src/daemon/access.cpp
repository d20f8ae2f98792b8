// SPDX-License-Identifier: MIT
// "hosts allow" / "hosts deny" / "proxy protocol hosts" matching, as upstream access.c does it.
#include "daemon/access.hpp"

#include "common/strings.hpp"
#include "common/wildmatch.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <climits>
#include <cstring>
#include <memory>
#include <set>

namespace ocr::daemon {
namespace {

/// A list, host or address reaches upstream as a C string, so it ends at its first NUL.
std::string_view c_string(std::string_view s) noexcept
{
    const auto nul = s.find('\0');
    return nul == std::string_view::npos ? s : s.substr(0, nul);
}

// Upstream: access.c:access_match splits with strtok(" ,\t") after strlower(): only those three
// separators, and only ASCII letters are folded.
std::vector<std::string> list_tokens(std::string_view list)
{
    const std::string lowered = to_lower(c_string(list));
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < lowered.size()) {
        const std::size_t start = lowered.find_first_not_of(" ,\t", i);
        if (start == std::string::npos)
            break;
        std::size_t end = lowered.find_first_of(" ,\t", start);
        if (end == std::string::npos)
            end = lowered.size();
        out.push_back(lowered.substr(start, end - start));
        i = end;
    }
    return out;
}

/// Upstream: access.c:match_hostname's test for tokens it never resolves (addresses, masks,
/// IPv6 literals, wildcards).
bool wants_forward_lookup(std::string_view tok) noexcept
{
    if (tok.find_first_not_of(".0123456789") == std::string_view::npos)
        return false;
    return tok.find_first_of(":/*?[") == std::string_view::npos;
}

bool is_netgroup_token(std::string_view tok) noexcept
{
    return tok.size() > 1 && tok.front() == '@';
}

struct AddrInfoFree {
    void operator()(addrinfo* ai) const noexcept { freeaddrinfo(ai); }
};

/// A numeric address as getaddrinfo(AI_NUMERICHOST) reads it (so "127.1" and octal parts are
/// accepted, exactly as upstream accepts them).
struct NumericAddr {
    int family = AF_UNSPEC;
    std::array<unsigned char, 16> bytes{};
    std::size_t len = 0;
    std::uint32_t scope_id = 0;
};

/// @return 0 on success, else the getaddrinfo() error code.
int parse_numeric(const std::string& text, NumericAddr& out)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* raw = nullptr;
    const int rc = getaddrinfo(text.c_str(), nullptr, &hints, &raw);
    if (rc != 0)
        return rc;
    const std::unique_ptr<addrinfo, AddrInfoFree> res(raw);
    out.family = res->ai_family;
    if (res->ai_family == AF_INET && res->ai_addrlen >= sizeof(sockaddr_in)) {
        sockaddr_in sin{};
        std::memcpy(&sin, res->ai_addr, sizeof sin);
        std::memcpy(out.bytes.data(), &sin.sin_addr, 4);
        out.len = 4;
    } else if (res->ai_family == AF_INET6 && res->ai_addrlen >= sizeof(sockaddr_in6)) {
        sockaddr_in6 sin6{};
        std::memcpy(&sin6, res->ai_addr, sizeof sin6);
        std::memcpy(out.bytes.data(), &sin6.sin6_addr, 16);
        out.len = 16;
        out.scope_id = sin6.sin6_scope_id;
    }
    return 0;
}

bool is_c_space(char c) noexcept
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/// Upstream reads a "/bits" suffix with strtol(p, &end, 10) and calls it malformed when p is
/// empty or anything follows the number; this returns nullopt in exactly those cases. Leading
/// space and a sign are accepted, so "-0" and "+8" are numbers. Overflow saturates as strtol's.
std::optional<long> strtol_whole(std::string_view p) noexcept
{
    if (p.empty())
        return std::nullopt;
    std::size_t i = 0;
    while (i < p.size() && is_c_space(p[i]))
        ++i;
    bool negative = false;
    if (i < p.size() && (p[i] == '+' || p[i] == '-')) {
        negative = p[i] == '-';
        ++i;
    }
    const std::size_t digits = i;
    long value = 0;
    bool overflow = false;
    for (; i < p.size() && p[i] >= '0' && p[i] <= '9'; ++i) {
        const int d = p[i] - '0';
        if (value > (LONG_MAX - d) / 10)
            overflow = true;
        else
            value = value * 10 + d;
    }
    if (i == digits || i != p.size())
        return std::nullopt;
    if (overflow)
        return negative ? LONG_MIN : LONG_MAX;
    return negative ? -value : value;
}

/// Everything one check needs, and where its side results go.
struct MatchContext {
    std::string_view addr;
    std::string_view host;
    bool forward_lookup = false;
    NameResolver& resolver;
    AccessDecision& decision;
    // The peer address is parsed at most once per check (upstream re-parses it per token, with
    // the same result every time).
    std::optional<std::optional<NumericAddr>> peer;
};

const std::optional<NumericAddr>& peer_address(MatchContext& ctx)
{
    if (!ctx.peer) {
        NumericAddr parsed;
        if (parse_numeric(std::string(ctx.addr), parsed) == 0)
            ctx.peer.emplace(parsed);
        else
            ctx.peer.emplace(std::nullopt);
    }
    return *ctx.peer;
}

// Upstream: access.c:match_hostname.
bool match_hostname(MatchContext& ctx, const std::string& tok, bool deny)
{
    if (ctx.host.empty())
        return false;
    if (is_netgroup_token(tok))
        return ctx.resolver.in_netgroup(std::string_view(tok).substr(1), ctx.host);
    // iwildmatch: a reverse name of "UNKNOWN"/"UNDETERMINED" is matched like any other name, so
    // "*" matches every client (and "hosts deny = *" denies everyone) whatever the lookup said.
    if (wildmatch(tok, ctx.host, WildCase::Insensitive))
        return true;
    if (!ctx.forward_lookup || !wants_forward_lookup(tok))
        return false;
    const auto addresses = ctx.resolver.addresses_of(tok);
    if (!addresses) {
        // 3.5.0 (CVE-2026-70452): a deny entry that cannot be resolved cannot be shown not to be
        // this peer, so it counts as a match; an allow entry simply does not match.
        return deny;
    }
    for (const std::string& a : *addresses) {
        if (a == ctx.addr) {
            if (ctx.host == kUndeterminedHost)
                ctx.decision.host_name = tok;
            return true;
        }
    }
    return false;
}

std::array<unsigned char, 16> prefix_mask(long bits)
{
    std::array<unsigned char, 16> mask{};
    const auto whole = static_cast<std::size_t>(bits >> 3);
    const auto rest = static_cast<unsigned>(bits & 7);
    for (std::size_t i = 0; i < whole && i < mask.size(); ++i)
        mask[i] = 0xff;
    if (whole < mask.size())
        mask[whole] = static_cast<unsigned char>((0xffU << (8 - rest)) & 0xffU);
    return mask;
}

// Upstream: access.c:match_address.
bool match_address(MatchContext& ctx, const std::string& tok)
{
    if (ctx.addr.empty())
        return false;
    const std::size_t slash = tok.find('/');
    const std::string base = tok.substr(0, slash);
    if (base.find_first_not_of(".0123456789") != std::string::npos &&
        base.find(':') == std::string::npos)
        return false; // a host name, handled by match_hostname

    const auto& peer = peer_address(ctx);
    if (!peer)
        return false;
    NumericAddr want;
    if (const int gai = parse_numeric(base, want); gai != 0) {
        ctx.decision.log_lines.push_back("error matching address " + tok + ": " +
                                         gai_strerror(gai));
        return false;
    }
    if (want.family != peer->family)
        return false;
    if (want.len == 0) {
        ctx.decision.log_lines.push_back("unknown family " + std::to_string(want.family));
        return false;
    }
    if (want.family == AF_INET6 && want.scope_id != 0 && peer->scope_id != want.scope_id)
        return false;

    std::array<unsigned char, 16> mask{};
    if (slash != std::string::npos) {
        const std::string mask_text = tok.substr(slash + 1);
        std::array<unsigned char, 16> parsed{};
        if (inet_pton(peer->family, mask_text.c_str(), parsed.data()) > 0) {
            mask = parsed; // "addr/255.255.0.0" (or an IPv6 mask): used bit for bit
        } else {
            const auto bits = strtol_whole(mask_text);
            if (!bits) {
                ctx.decision.log_lines.push_back("malformed mask in " + tok);
                return false;
            }
            if (*bits == 0)
                return true; // "/0" (also "/-0", "/+0") matches the whole family
            if (*bits < 0 || *bits > static_cast<long>(want.len * 8)) {
                ctx.decision.log_lines.push_back("malformed mask in " + tok);
                return false;
            }
            mask = prefix_mask(*bits);
        }
    } else {
        mask = prefix_mask(128);
    }
    for (std::size_t i = 0; i < want.len; ++i) {
        if (((peer->bytes[i] ^ want.bytes[i]) & mask[i]) != 0)
            return false;
    }
    return true;
}

// Upstream: access.c:access_match. The first token that matches as a host name or as an
// address decides.
bool access_match(MatchContext& ctx, std::string_view list, bool deny)
{
    for (const std::string& tok : list_tokens(list)) {
        if (match_hostname(ctx, tok, deny) || match_address(ctx, tok))
            return true;
    }
    return false;
}

} // namespace

bool NameResolver::in_netgroup(std::string_view netgroup, std::string_view host)
{
    const std::string group(c_string(netgroup));
    const std::string name(c_string(host));
    return innetgr(group.c_str(), name.c_str(), nullptr, nullptr) == 1;
}

void PrefetchedNameResolver::set(std::string hostname,
                                 std::optional<std::vector<std::string>> addresses)
{
    table_.insert_or_assign(std::move(hostname), std::move(addresses));
}

std::optional<std::vector<std::string>> PrefetchedNameResolver::addresses_of(
    std::string_view hostname)
{
    const auto it = table_.find(hostname);
    if (it == table_.end())
        return std::nullopt;
    return it->second;
}

AccessDecision check_access(std::string_view hosts_allow, std::string_view hosts_deny,
                            const AccessQuery& query, NameResolver& resolver)
{
    AccessDecision decision;
    MatchContext ctx{c_string(query.addr), c_string(query.host), query.forward_lookup, resolver,
                     decision, std::nullopt};
    const std::string_view allow_list = c_string(hosts_allow);
    const std::string_view deny_list = c_string(hosts_deny);

    if (!allow_list.empty()) {
        if (access_match(ctx, allow_list, false)) {
            decision.allowed = true;
            return decision;
        }
        // An allow list with no deny list admits only what it names.
        if (deny_list.empty()) {
            decision.allowed = false;
            return decision;
        }
    }
    decision.allowed = deny_list.empty() || !access_match(ctx, deny_list, true);
    return decision;
}

bool allow_access(std::string_view hosts_allow, std::string_view hosts_deny,
                  const AccessQuery& query, NameResolver& resolver)
{
    return check_access(hosts_allow, hosts_deny, query, resolver).allowed;
}

AccessDecision check_proxy_protocol_peer(std::string_view proxy_protocol_hosts,
                                         std::string_view addr, NameResolver& resolver)
{
    AccessDecision decision;
    const std::string_view list = c_string(proxy_protocol_hosts);
    if (list.empty()) {
        decision.allowed = false;
        return decision;
    }
    // Upstream: clientserver.c:proxy_peer_allowed passes the "UNDETERMINED" name, and
    // access.c:allow_proxy_protocol_peer turns forward lookups off.
    MatchContext ctx{c_string(addr), kUndeterminedHost, false, resolver, decision, std::nullopt};
    decision.allowed = access_match(ctx, list, false);
    return decision;
}

bool allow_proxy_protocol_peer(std::string_view proxy_protocol_hosts, std::string_view addr,
                               NameResolver& resolver)
{
    return check_proxy_protocol_peer(proxy_protocol_hosts, addr, resolver).allowed;
}

std::vector<std::string> names_needing_lookup(std::string_view list)
{
    std::vector<std::string> out;
    std::set<std::string, std::less<>> seen;
    for (std::string& tok : list_tokens(list)) {
        if (is_netgroup_token(tok) || !wants_forward_lookup(tok))
            continue;
        if (seen.insert(tok).second)
            out.push_back(std::move(tok));
    }
    return out;
}

} // namespace ocr::daemon
