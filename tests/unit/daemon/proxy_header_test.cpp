// SPDX-License-Identifier: MIT
// Unit tests for the PROXY protocol header parser.
#include "daemon/proxy_header.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ocr::daemon {
namespace {

using Status = ProxyParse::Status;

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

std::string v2(unsigned char ver_cmd, unsigned char family, const std::string& payload)
{
    std::string h = kSig;
    h += static_cast<char>(ver_cmd);
    h += static_cast<char>(family);
    h += static_cast<char>(payload.size() >> 8);
    h += static_cast<char>(payload.size() & 0xFF);
    return h + payload;
}

std::string tcp4_payload()
{
    // 192.0.2.7:51000 -> 198.51.100.1:873
    return std::string("\xC0\x00\x02\x07\xC6\x33\x64\x01\xC7\x38\x03\x69", 12);
}

// Verifies that a v1 TCP4 line is parsed and only its own bytes are consumed.
TEST(ProxyHeader, V1Tcp4)
{
    const std::string line = "PROXY TCP4 192.0.2.7 198.51.100.1 51000 873\r\n";
    const auto p = parse_proxy_header(line + "@RSYNCD: 32.0\n");
    ASSERT_EQ(p.status, Status::Done) << p.reason;
    EXPECT_EQ(p.version, 1);
    EXPECT_EQ(p.consumed, line.size());
    ASSERT_TRUE(p.source);
    EXPECT_EQ(*p.source, (ProxyEndpoint{"192.0.2.7", 51000}));
    EXPECT_EQ(*p.destination, (ProxyEndpoint{"198.51.100.1", 873}));
}

// Verifies that a v1 TCP6 line keeps the address text as sent.
TEST(ProxyHeader, V1Tcp6)
{
    const auto p = parse_proxy_header("PROXY TCP6 2001:db8::1 ::1 40000 874\r\n");
    ASSERT_EQ(p.status, Status::Done) << p.reason;
    EXPECT_EQ(p.source->addr, "2001:db8::1");
    EXPECT_EQ(p.destination->port, 874);
}

// Verifies that v1 UNKNOWN is accepted without an address, whatever follows it.
TEST(ProxyHeader, V1Unknown)
{
    const auto p = parse_proxy_header("PROXY UNKNOWN ffff::1 ::1 1 2\r\nrest");
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_FALSE(p.source);
    EXPECT_EQ(p.consumed, 31u);
}

// Verifies that every strict prefix of a valid header asks for more bytes.
TEST(ProxyHeader, PrefixesNeedMore)
{
    for (const std::string& h :
         {std::string("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), v2(0x21, 0x11, tcp4_payload())}) {
        for (std::size_t n = 0; n < h.size(); ++n)
            EXPECT_EQ(parse_proxy_header(h.substr(0, n)).status, Status::NeedMore) << n;
        EXPECT_EQ(parse_proxy_header(h).status, Status::Done);
    }
}

// Verifies the 107-byte limit of a v1 line, CRLF included.
TEST(ProxyHeader, V1LengthLimit)
{
    std::string head = "PROXY UNKNOWN ";
    const std::string at_limit = head + std::string(kProxyV1MaxLength - head.size() - 2, 'x') + "\r\n";
    ASSERT_EQ(at_limit.size(), kProxyV1MaxLength);
    EXPECT_EQ(parse_proxy_header(at_limit).status, Status::Done);
    const std::string over = head + std::string(kProxyV1MaxLength - head.size() - 1, 'x') + "\r\n";
    EXPECT_EQ(parse_proxy_header(over).status, Status::Invalid);
    EXPECT_EQ(parse_proxy_header(std::string(200, 'P').replace(0, 6, "PROXY ")).status, Status::Invalid);
}

// Verifies that malformed v1 lines are refused.
TEST(ProxyHeader, V1Malformed)
{
    for (const char* bad : {
             "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",          // no CR
             "PROXY TCP4 1.2.3.4 5.6.7.8 1\r 2\r\n",      // stray CR
             "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",        // protocol
             "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n",         // missing space
             "PROXY TCP4 1.2.3.4 5.6.7.8 0 2\r\n",        // port 0
             "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",    // port too big
             "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",      // extra field
             "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",          // missing field
             "PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n",      // bad address
             "PROXY TCP4 ::1 ::1 1 2\r\n",                // family mismatch
             "PROXY\r\n",
             "GET / HTTP/1.0\r\n",
         })
        EXPECT_EQ(parse_proxy_header(bad).status, Status::Invalid) << bad;
    EXPECT_EQ(parse_proxy_header(std::string("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 33)).status,
              Status::Invalid);
}

// Verifies that v2 TCP4 and TCP6 headers yield both endpoints.
TEST(ProxyHeader, V2Tcp)
{
    auto p = parse_proxy_header(v2(0x21, 0x11, tcp4_payload()) + "xyz");
    ASSERT_EQ(p.status, Status::Done) << p.reason;
    EXPECT_EQ(p.version, 2);
    EXPECT_EQ(p.consumed, 28u);
    EXPECT_EQ(*p.source, (ProxyEndpoint{"192.0.2.7", 51000}));
    EXPECT_EQ(*p.destination, (ProxyEndpoint{"198.51.100.1", 873}));

    std::string six(36, '\0');
    six[0] = '\x20';
    six[1] = '\x01';
    six[15] = '\x05';
    six[31] = '\x01';
    six[32] = '\x12';
    six[33] = '\x34';
    six[35] = '\x50';
    p = parse_proxy_header(v2(0x21, 0x21, six));
    ASSERT_EQ(p.status, Status::Done) << p.reason;
    EXPECT_EQ(*p.source, (ProxyEndpoint{"2001::5", 0x1234}));
    EXPECT_EQ(*p.destination, (ProxyEndpoint{"::1", 80}));
}

// Verifies that TLVs after the addresses are skipped and counted as consumed.
TEST(ProxyHeader, V2SkipsTlvs)
{
    const std::string payload = tcp4_payload() + std::string("\x04\x00\x03" "abc", 6);
    const auto p = parse_proxy_header(v2(0x21, 0x11, payload));
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_EQ(p.consumed, 16 + payload.size());
    EXPECT_EQ(p.source->addr, "192.0.2.7");
}

// Verifies LOCAL and non-TCP families: accepted, no address.
TEST(ProxyHeader, V2LocalAndOtherFamilies)
{
    auto p = parse_proxy_header(v2(0x20, 0x00, ""));
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_FALSE(p.source);
    p = parse_proxy_header(v2(0x21, 0x31, std::string(216, 'u')));
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_FALSE(p.source);
}

// Verifies that bad versions, commands, lengths and short address blocks are refused.
TEST(ProxyHeader, V2Malformed)
{
    EXPECT_EQ(parse_proxy_header(v2(0x11, 0x11, tcp4_payload())).status, Status::Invalid);
    EXPECT_EQ(parse_proxy_header(v2(0x22, 0x11, tcp4_payload())).status, Status::Invalid);
    EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, "short")).status, Status::Invalid);
    EXPECT_EQ(parse_proxy_header(v2(0x21, 0x21, tcp4_payload())).status, Status::Invalid);
    // Refused from the length field alone, before the payload arrives.
    const std::string big = v2(0x21, 0x11, std::string(kProxyV2MaxPayload + 1, 'x'));
    EXPECT_EQ(parse_proxy_header(big.substr(0, 16)).status, Status::Invalid);
}

} // namespace
} // namespace ocr::daemon
