// SPDX-License-Identifier: MIT
// PROXY protocol v1/v2 parsing (haproxy's proxy-protocol.txt; limits as upstream rsync 3.5.0).
#include "daemon/proxy_header.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace ocr::daemon {
namespace {

constexpr std::string_view kV1Prefix = "PROXY";
constexpr std::array<unsigned char, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                        0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr unsigned kV2CommandLocal = 0;
constexpr unsigned kV2CommandProxy = 1;
constexpr unsigned kV2FamilyTcp4 = 0x11;
constexpr unsigned kV2FamilyTcp6 = 0x21;
constexpr std::size_t kV2Tcp4Length = 12;
constexpr std::size_t kV2Tcp6Length = 36;

ProxyParse invalid(std::string reason)
{
    ProxyParse p;
    p.status = ProxyParse::Status::Invalid;
    p.reason = std::move(reason);
    return p;
}

ProxyParse need_more()
{
    return ProxyParse{};
}

// Upstream tests these separators with isspace() (clientname.c:read_proxy_protocol_header);
// '\r' and '\n' cannot occur here because the line ends at the first of them.
bool is_separator(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

bool is_prefix_of(std::string_view have, std::string_view of)
{
    return have.size() <= of.size() && of.substr(0, have.size()) == have;
}

std::string_view signature_view()
{
    return {reinterpret_cast<const char*>(kV2Signature.data()), kV2Signature.size()};
}

// A port as the spec writes it: decimal, 1..65535 (upstream only insists on non-zero).
std::optional<std::uint16_t> parse_port(std::string_view text)
{
    if (text.empty() || text.size() > 5)
        return std::nullopt;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

bool valid_address(std::string_view text, int family)
{
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN)
        return false;
    std::array<char, INET6_ADDRSTRLEN> z{};
    std::copy(text.begin(), text.end(), z.begin());
    std::array<unsigned char, sizeof(in6_addr)> out{};
    return ::inet_pton(family, z.data(), out.data()) == 1;
}

ProxyParse parse_v1(std::string_view bytes)
{
    const std::size_t window = std::min(bytes.size(), kProxyV1MaxLength);
    const std::size_t nl = bytes.substr(0, window).find('\n');
    if (nl == std::string_view::npos) {
        if (bytes.size() >= kProxyV1MaxLength)
            return invalid("PROXY v1 line longer than 107 bytes");
        return need_more();
    }
    const std::string_view line = bytes.substr(0, nl + 1);
    if (line.find('\r') != nl - 1)
        return invalid("PROXY v1 line does not end in CRLF");
    if (line.find('\0') != std::string_view::npos)
        return invalid("NUL in PROXY v1 line");
    std::string_view body = line.substr(0, nl - 1);
    if (body.size() < kV1Prefix.size() + 1 || !is_separator(body[kV1Prefix.size()]))
        return invalid("no space after PROXY");
    body.remove_prefix(kV1Prefix.size() + 1);

    ProxyParse p;
    p.status = ProxyParse::Status::Done;
    p.consumed = line.size();
    p.version = 1;
    // Whatever follows UNKNOWN is to be ignored (spec; upstream does the same).
    if (body.starts_with("UNKNOWN"))
        return p;
    int family = 0;
    if (body.starts_with("TCP4"))
        family = AF_INET;
    else if (body.starts_with("TCP6"))
        family = AF_INET6;
    else
        return invalid("unknown PROXY v1 protocol");
    body.remove_prefix(4);
    if (body.empty() || !is_separator(body[0]))
        return invalid("no space after the PROXY v1 protocol");
    body.remove_prefix(1);

    std::array<std::string_view, 4> fields;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i + 1 == fields.size()) {
            fields[i] = body;
            break;
        }
        const std::size_t sp = body.find(' ');
        if (sp == std::string_view::npos)
            return invalid("PROXY v1 line has too few fields");
        fields[i] = body.substr(0, sp);
        body.remove_prefix(sp + 1);
    }
    if (!valid_address(fields[0], family))
        return invalid("bad PROXY v1 source address");
    if (!valid_address(fields[1], family))
        return invalid("bad PROXY v1 destination address");
    const auto sport = parse_port(fields[2]);
    const auto dport = parse_port(fields[3]);
    if (!sport || !dport)
        return invalid("bad PROXY v1 port");
    p.source = ProxyEndpoint{std::string(fields[0]), *sport};
    p.destination = ProxyEndpoint{std::string(fields[1]), *dport};
    return p;
}

std::uint16_t be16(const unsigned char* b)
{
    return static_cast<std::uint16_t>((b[0] << 8) | b[1]);
}

ProxyEndpoint endpoint_from(int family, const unsigned char* addr, const unsigned char* port)
{
    std::array<char, INET6_ADDRSTRLEN> text{};
    // Cannot fail: the family is known and the buffer is large enough for either.
    ::inet_ntop(family, addr, text.data(), static_cast<socklen_t>(text.size()));
    return ProxyEndpoint{std::string(text.data()), be16(port)};
}

ProxyParse parse_v2(std::string_view bytes)
{
    if (bytes.size() <= kV2Signature.size())
        return need_more();
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    const unsigned version = b[12] >> 4;
    const unsigned command = b[12] & 0x0F;
    if (version != 2)
        return invalid("PROXY v2 header with version " + std::to_string(version));
    if (command != kV2CommandLocal && command != kV2CommandProxy)
        return invalid("PROXY v2 header with unknown command " + std::to_string(command));
    if (bytes.size() < kProxyV2FixedLength)
        return need_more();
    const std::size_t length = be16(b + 14);
    if (length > kProxyV2MaxPayload)
        return invalid("PROXY v2 header longer than " + std::to_string(kProxyV2MaxPayload) + " bytes");
    if (bytes.size() < kProxyV2FixedLength + length)
        return need_more();

    ProxyParse p;
    p.status = ProxyParse::Status::Done;
    p.consumed = kProxyV2FixedLength + length;
    p.version = 2;
    // A health check from the proxy itself: the socket's peer is the real one.
    if (command == kV2CommandLocal)
        return p;
    const unsigned family = b[13];
    const unsigned char* a = b + kProxyV2FixedLength;
    // Anything after the addresses is TLVs, which nothing here needs: skipped unread.
    if (family == kV2FamilyTcp4) {
        if (length < kV2Tcp4Length)
            return invalid("PROXY v2 TCP4 header too short");
        p.source = endpoint_from(AF_INET, a, a + 8);
        p.destination = endpoint_from(AF_INET, a + 4, a + 10);
    } else if (family == kV2FamilyTcp6) {
        if (length < kV2Tcp6Length)
            return invalid("PROXY v2 TCP6 header too short");
        p.source = endpoint_from(AF_INET6, a, a + 32);
        p.destination = endpoint_from(AF_INET6, a + 16, a + 34);
    }
    // Other families (UDP, UNIX, unspecified) carry no TCP peer: upstream keeps the socket's
    // address for them too.
    return p;
}

} // namespace

ProxyParse parse_proxy_header(std::string_view bytes)
{
    const std::string_view sig = signature_view();
    if (bytes.size() < sig.size() && is_prefix_of(bytes, sig))
        return need_more();
    if (bytes.starts_with(sig))
        return parse_v2(bytes);
    if (bytes.size() < kV1Prefix.size() && is_prefix_of(bytes, kV1Prefix))
        return need_more();
    if (bytes.starts_with(kV1Prefix))
        return parse_v1(bytes);
    return invalid("no PROXY protocol header");
}

} // namespace ocr::daemon
