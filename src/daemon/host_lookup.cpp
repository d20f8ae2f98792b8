// SPDX-License-Identifier: MIT
// The client's address text and confirmed host name, as upstream clientname.c determines them.
#include "daemon/host_lookup.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace ocr::daemon {
namespace {

// Upstream keeps both the address and the name in 100-byte buffers; getnameinfo() fails
// rather than truncate, so a longer reverse name becomes "UNKNOWN".
constexpr std::size_t kNameBufSize = 100;

std::string_view c_string(std::string_view s) noexcept
{
    const auto nul = s.find('\0');
    return nul == std::string_view::npos ? s : s.substr(0, nul);
}

struct AddrInfoFree {
    void operator()(addrinfo* ai) const noexcept { freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoFree>;

const sockaddr* as_sockaddr(const sockaddr_storage& ss) noexcept
{
    return reinterpret_cast<const sockaddr*>(&ss);
}

// Upstream: clientname.c:compare_addrinfo_sockaddr (true when they differ).
bool differs(const addrinfo& ai, const sockaddr_storage& ss, std::vector<std::string>& log)
{
    const int ss_family = ss.ss_family;
    if (ai.ai_family != ss_family) {
        log.push_back("compare_addrinfo_sockaddr: response family " + std::to_string(ai.ai_family) +
                      " != " + std::to_string(ss_family));
        return true;
    }
    if (ss_family == AF_INET && ai.ai_addrlen >= sizeof(sockaddr_in)) {
        sockaddr_in mine{};
        sockaddr_in theirs{};
        std::memcpy(&mine, &ss, sizeof mine);
        std::memcpy(&theirs, ai.ai_addr, sizeof theirs);
        return std::memcmp(&mine.sin_addr, &theirs.sin_addr, sizeof mine.sin_addr) != 0;
    }
    if (ss_family == AF_INET6) {
        if (ai.ai_addrlen < sizeof(sockaddr_in6)) {
            log.push_back("compare_addrinfo_sockaddr: too short sockaddr_in6; length=" +
                          std::to_string(ai.ai_addrlen));
            return true;
        }
        sockaddr_in6 mine{};
        sockaddr_in6 theirs{};
        std::memcpy(&mine, &ss, sizeof mine);
        std::memcpy(&theirs, ai.ai_addr, sizeof theirs);
        if (std::memcmp(&mine.sin6_addr, &theirs.sin6_addr, sizeof mine.sin6_addr) != 0)
            return true;
        return mine.sin6_scope_id != theirs.sin6_scope_id;
    }
    return true;
}

// Upstream: clientname.c:check_name. A PTR record is under the control of whoever owns the
// address block, so the name only counts when it resolves back to the peer's address.
void confirm_forward(const std::string& ipaddr, const sockaddr_storage& ss, ClientName& out)
{
    addrinfo hints{};
    hints.ai_family = ss.ss_family;
    hints.ai_flags = AI_CANONNAME;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* raw = nullptr;
    if (const int err = getaddrinfo(out.name.c_str(), nullptr, &hints, &raw); err != 0) {
        out.log_lines.push_back("forward name lookup for " + out.name + " failed: " +
                                gai_strerror(err));
        out.name = std::string(kUnknownHost);
        return;
    }
    const AddrInfoPtr res0(raw);
    for (const addrinfo* res = res0.get(); res != nullptr; res = res->ai_next) {
        if (!differs(*res, ss, out.log_lines))
            return;
    }
    out.log_lines.push_back(ipaddr + " is not a known address for \"" + out.name +
                            "\": spoofed address?");
    out.name = std::string(kUnknownHost);
}

} // namespace

ClientName lookup_client_name(std::string_view addr)
{
    ClientName out{std::string(kUnknownHost), {}};
    const std::string ipaddr(c_string(addr));
    if (ipaddr == "0.0.0.0")
        return out;

    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* raw = nullptr;
    if (const int err = getaddrinfo(ipaddr.c_str(), nullptr, &hints, &raw); err != 0) {
        out.log_lines.push_back("malformed address " + ipaddr + ": " + gai_strerror(err));
        return out;
    }
    const AddrInfoPtr answer(raw);
    sockaddr_storage ss{};
    socklen_t ss_len = 0;
    if (answer->ai_family == AF_INET)
        ss_len = sizeof(sockaddr_in);
    else if (answer->ai_family == AF_INET6)
        ss_len = sizeof(sockaddr_in6);
    else
        return out; // a numeric host is always one of the two
    std::memcpy(&ss, answer->ai_addr, std::min<std::size_t>(ss_len, answer->ai_addrlen));

    char name[kNameBufSize] = {};
    char port[kNameBufSize] = {};
    const int err = getnameinfo(as_sockaddr(ss), ss_len, name, sizeof name, port, sizeof port,
                                NI_NAMEREQD | NI_NUMERICSERV);
    if (err != 0) {
        out.log_lines.push_back("name lookup failed for " + ipaddr + ": " + gai_strerror(err));
        return out;
    }
    out.name = name;
    confirm_forward(ipaddr, ss, out);
    return out;
}

std::string reverse_lookup_confirmed(std::string_view addr)
{
    return lookup_client_name(addr).name;
}

std::string address_text(const sockaddr* sa, socklen_t len)
{
    if (sa == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t)))
        return {};
    sockaddr_storage ss{};
    auto ss_len = static_cast<socklen_t>(std::min<std::size_t>(len, sizeof ss));
    std::memcpy(&ss, sa, ss_len);

    if (ss.ss_family == AF_INET6 && ss_len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        sockaddr_in6 sin6{};
        std::memcpy(&sin6, &ss, sizeof sin6);
        if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
            // Upstream: clientname.c:client_sockaddr rewrites a mapped peer as plain IPv4, so
            // the log, %a and hosts allow/deny all see "a.b.c.d".
            sockaddr_in sin{};
            sin.sin_family = AF_INET;
            sin.sin_port = sin6.sin6_port;
            std::memcpy(&sin.sin_addr, &sin6.sin6_addr.s6_addr[12], sizeof sin.sin_addr);
            ss = sockaddr_storage{};
            std::memcpy(&ss, &sin, sizeof sin);
            ss_len = sizeof sin;
        }
    }

    char buf[kNameBufSize] = {};
    if (getnameinfo(as_sockaddr(ss), ss_len, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) != 0)
        return {};
    return buf;
}

std::optional<std::vector<std::string>> SystemNameResolver::addresses_of(std::string_view hostname)
{
    const std::string name(c_string(hostname));
    addrinfo hints{};
    hints.ai_family = families_ == Families::Ipv4Only ? AF_INET : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* raw = nullptr;
    if (getaddrinfo(name.c_str(), nullptr, &hints, &raw) != 0)
        return std::nullopt;
    const AddrInfoPtr res0(raw);
    std::vector<std::string> out;
    for (const addrinfo* res = res0.get(); res != nullptr; res = res->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        const char* ok = nullptr;
        if (res->ai_family == AF_INET && res->ai_addrlen >= sizeof(sockaddr_in)) {
            sockaddr_in sin{};
            std::memcpy(&sin, res->ai_addr, sizeof sin);
            ok = inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text);
        } else if (res->ai_family == AF_INET6 && res->ai_addrlen >= sizeof(sockaddr_in6)) {
            sockaddr_in6 sin6{};
            std::memcpy(&sin6, res->ai_addr, sizeof sin6);
            ok = inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof text);
        }
        if (ok != nullptr && std::find(out.begin(), out.end(), text) == out.end())
            out.emplace_back(text);
    }
    return out;
}

} // namespace ocr::daemon
