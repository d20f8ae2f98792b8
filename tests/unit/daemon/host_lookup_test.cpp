// SPDX-License-Identifier: MIT
// Tests of peer address text, confirmed client names and the system forward resolver.
#include "daemon/host_lookup.hpp"

#include "common/unique_fd.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace ocr::daemon {
namespace {

sockaddr_in make_v4(const char* text, std::uint16_t port)
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    EXPECT_EQ(inet_pton(AF_INET, text, &sin.sin_addr), 1) << text;
    return sin;
}

sockaddr_in6 make_v6(const char* text, std::uint32_t scope = 0)
{
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(873);
    sin6.sin6_scope_id = scope;
    EXPECT_EQ(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1) << text;
    return sin6;
}

template <typename T>
std::string text_of(const T& sa, socklen_t len = sizeof(T))
{
    return address_text(reinterpret_cast<const sockaddr*>(&sa), len);
}

bool contains(const std::vector<std::string>& v, const std::string& s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

// Verifies that plain IPv4 and IPv6 peers get their canonical text.
TEST(AddressText, PlainFamilies)
{
    EXPECT_EQ(text_of(make_v4("192.0.2.1", 40000)), "192.0.2.1");
    EXPECT_EQ(text_of(make_v6("2001:db8::1")), "2001:db8::1");
    EXPECT_EQ(text_of(make_v6("2001:0DB8:0:0:0:0:0:00a1")), "2001:db8::a1");
    EXPECT_EQ(text_of(make_v6("::1")), "::1");
}

// Verifies that an IPv4-mapped peer is shown as plain IPv4 (upstream client_sockaddr), while
// other embedded forms are left as IPv6.
TEST(AddressText, MappedIpv4BecomesIpv4)
{
    EXPECT_EQ(text_of(make_v6("::ffff:192.0.2.1")), "192.0.2.1");
    EXPECT_EQ(text_of(make_v6("::ffff:10.130.1.2")), "10.130.1.2");
    EXPECT_EQ(text_of(make_v6("::192.0.2.1")), "::192.0.2.1");
    EXPECT_EQ(text_of(make_v6("64:ff9b::192.0.2.1")), "64:ff9b::c000:201");
}

// Verifies that a scoped link-local peer keeps its scope in the text.
TEST(AddressText, ScopeIsShown)
{
    const std::string text = text_of(make_v6("fe80::1", 1));
    EXPECT_EQ(text.rfind("fe80::1%", 0), 0U) << text;
    EXPECT_GT(text.size(), std::strlen("fe80::1%"));
}

// Verifies that a missing, truncated or unprintable address gives an empty text.
TEST(AddressText, BadInputsGiveEmptyText)
{
    EXPECT_EQ(address_text(nullptr, 0), "");
    const sockaddr_in v4 = make_v4("192.0.2.1", 1);
    EXPECT_EQ(text_of(v4, 1), "");
    const sockaddr_in6 v6 = make_v6("2001:db8::1");
    EXPECT_EQ(text_of(v6, sizeof(sockaddr_in)), "");
    sockaddr_storage odd{};
    odd.ss_family = AF_APPLETALK;
    EXPECT_EQ(text_of(odd), "");
}

// Verifies that a local-socket peer gets glibc's getnameinfo() text, as upstream prints it.
TEST(AddressText, LocalSocketPeer)
{
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::strcpy(un.sun_path, "/tmp/x");
    EXPECT_EQ(text_of(un), "localhost");
}

// Verifies that, over a real dual-stack socket, an IPv4 client of an IPv6 listener is shown as
// plain IPv4, as upstream shows it.
TEST(AddressText, DualStackPeerIsShownAsIpv4)
{
    UniqueFd listener(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener.get() >= 0) << std::strerror(errno);
    const int off = 0;
    ASSERT_EQ(::setsockopt(listener.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off), 0);
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_addr = in6addr_any;
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<const sockaddr*>(&any), sizeof any), 0)
        << std::strerror(errno);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    socklen_t len = sizeof any;
    ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&any), &len), 0);

    UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(client.get() >= 0);
    const sockaddr_in target = make_v4("127.0.0.1", ntohs(any.sin6_port));
    ASSERT_EQ(::connect(client.get(), reinterpret_cast<const sockaddr*>(&target), sizeof target), 0)
        << std::strerror(errno);
    UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(conn.get() >= 0);

    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    ASSERT_EQ(::getpeername(conn.get(), reinterpret_cast<sockaddr*>(&peer), &peer_len), 0);
    EXPECT_EQ(peer.ss_family, AF_INET6); // the kernel reports ::ffff:127.0.0.1
    EXPECT_EQ(address_text(reinterpret_cast<const sockaddr*>(&peer), peer_len), "127.0.0.1");
}

// Verifies that the "UNKNOWN" fallbacks that need no DNS give upstream's log lines.
TEST(ClientName, FallbacksWithoutDns)
{
    const ClientName zero = lookup_client_name("0.0.0.0");
    EXPECT_EQ(zero.name, "UNKNOWN");
    EXPECT_TRUE(zero.log_lines.empty());

    const ClientName junk = lookup_client_name("junk");
    EXPECT_EQ(junk.name, "UNKNOWN");
    EXPECT_EQ(junk.log_lines,
              std::vector<std::string>{"malformed address junk: Name or service not known"});

    const ClientName empty = lookup_client_name("");
    EXPECT_EQ(empty.name, "UNKNOWN");
    EXPECT_EQ(empty.log_lines.size(), 1U);
    EXPECT_EQ(reverse_lookup_confirmed("junk"), "UNKNOWN");
}

// Verifies that the loopback address gets a name that really resolves back to it.
TEST(ClientName, LoopbackNameIsForwardConfirmed)
{
    const ClientName c = lookup_client_name("127.0.0.1");
    ASSERT_NE(c.name, "UNKNOWN") << (c.log_lines.empty() ? "" : c.log_lines.front());
    EXPECT_TRUE(c.log_lines.empty());
    SystemNameResolver resolver;
    const auto addrs = resolver.addresses_of(c.name);
    ASSERT_TRUE(addrs.has_value());
    EXPECT_TRUE(contains(*addrs, "127.0.0.1"));
    EXPECT_EQ(reverse_lookup_confirmed("127.0.0.1"), c.name);
}

// Verifies that an IPv6 loopback either gets a confirmed name or UNKNOWN with a log line
// saying why (which one depends on the host's /etc/hosts).
TEST(ClientName, Ipv6LoopbackIsNamedOrExplained)
{
    const ClientName c = lookup_client_name("::1");
    if (c.name == "UNKNOWN") {
        ASSERT_EQ(c.log_lines.size(), 1U);
        EXPECT_EQ(c.log_lines.front().rfind("name lookup failed for ::1: ", 0), 0U)
            << c.log_lines.front();
    } else {
        SystemNameResolver both(SystemNameResolver::Families::Both);
        const auto addrs = both.addresses_of(c.name);
        ASSERT_TRUE(addrs.has_value());
        EXPECT_TRUE(contains(*addrs, "::1"));
    }
}

// Verifies that the system resolver returns IPv4 text only by default (like gethostbyname), both
// families on request, and nullopt for names that cannot resolve.
TEST(SystemResolver, FamiliesAndFailures)
{
    SystemNameResolver v4;
    const auto local = v4.addresses_of("localhost");
    ASSERT_TRUE(local.has_value());
    EXPECT_TRUE(contains(*local, "127.0.0.1"));
    for (const std::string& a : *local)
        EXPECT_EQ(a.find(':'), std::string::npos) << a;
    EXPECT_EQ(v4.addresses_of("127.0.0.1"), std::vector<std::string>{"127.0.0.1"});
    EXPECT_FALSE(v4.addresses_of("::1").has_value());
    EXPECT_FALSE(v4.addresses_of("").has_value());

    SystemNameResolver both(SystemNameResolver::Families::Both);
    EXPECT_EQ(both.addresses_of("::1"), std::vector<std::string>{"::1"});
    EXPECT_EQ(both.addresses_of("127.0.0.1"), std::vector<std::string>{"127.0.0.1"});
}

} // namespace
} // namespace ocr::daemon
