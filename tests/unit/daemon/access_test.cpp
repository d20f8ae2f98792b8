// SPDX-License-Identifier: MIT
// Tests of hosts allow / hosts deny / proxy protocol hosts matching (upstream access.c rules).
#include "daemon/access.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace ocr::daemon {
namespace {

/// Answers forward lookups and netgroup questions from tables and records what was asked.
class FakeResolver final : public NameResolver {
public:
    std::optional<std::vector<std::string>> addresses_of(std::string_view hostname) override
    {
        lookups.emplace_back(hostname);
        const auto it = names.find(std::string(hostname));
        if (it == names.end())
            return std::nullopt;
        return it->second;
    }
    bool in_netgroup(std::string_view netgroup, std::string_view host) override
    {
        netgroup_queries.push_back(std::string(netgroup) + "/" + std::string(host));
        const auto it = groups.find(std::string(netgroup));
        return it != groups.end() && it->second.count(std::string(host)) != 0;
    }

    std::map<std::string, std::optional<std::vector<std::string>>> names;
    std::map<std::string, std::set<std::string>> groups;
    std::vector<std::string> lookups;
    std::vector<std::string> netgroup_queries;
};

class Access : public ::testing::Test {
protected:
    bool allowed(std::string_view allow, std::string_view deny, std::string_view addr,
                 std::string_view host = kUndeterminedHost, bool forward = true)
    {
        return allow_access(allow, deny, AccessQuery{addr, host, forward}, resolver);
    }
    bool allow_only(std::string_view allow, std::string_view addr,
                    std::string_view host = kUndeterminedHost)
    {
        return allowed(allow, "", addr, host);
    }

    FakeResolver resolver;
};

// Verifies that with neither list set every client is allowed.
TEST_F(Access, EmptyListsAllowEveryone)
{
    EXPECT_TRUE(allowed("", "", "10.1.2.3"));
    EXPECT_TRUE(allowed("", "", "::1", kUnknownHost));
    EXPECT_TRUE(allowed("", "", ""));
}

// Verifies that a matching allow entry wins over deny, an allow list alone refuses non-matches,
// and with a deny list only a deny match refuses.
TEST_F(Access, AllowIsCheckedBeforeDeny)
{
    EXPECT_TRUE(allowed("10.0.0.0/8", "10.0.0.5", "10.0.0.5"));
    EXPECT_TRUE(allowed("10.0.0.0/8", "*", "10.1.1.1"));
    EXPECT_FALSE(allowed("10.0.0.0/8", "*", "192.168.1.1"));
    EXPECT_TRUE(allowed("10.0.0.0/8", "172.16.0.0/12", "192.168.1.1"));
    EXPECT_FALSE(allow_only("10.0.0.0/8", "192.168.1.1"));
    EXPECT_FALSE(allowed("", "192.168.1.1", "192.168.1.1"));
    EXPECT_TRUE(allowed("", "192.168.1.1", "192.168.1.2"));
}

// Verifies that a list of nothing but separators is set (and so, as an allow list, admits
// nobody), unlike an empty one.
TEST_F(Access, SeparatorOnlyListIsNotEmpty)
{
    EXPECT_FALSE(allow_only(",", "10.0.0.1"));
    EXPECT_FALSE(allow_only(" \t ", "10.0.0.1"));
    EXPECT_TRUE(allowed("", " , ", "10.0.0.1"));
}

// Verifies that tokens are split on spaces, tabs and commas only.
TEST_F(Access, TokenSeparators)
{
    EXPECT_TRUE(allow_only("10.0.0.9,,10.0.0.1", "10.0.0.1"));
    EXPECT_TRUE(allow_only("10.0.0.9\t10.0.0.1", "10.0.0.1"));
    EXPECT_TRUE(allow_only(" 10.0.0.9 , 10.0.0.1 ", "10.0.0.1"));
    // A newline is not a separator: this is one (host name) token that matches nothing.
    EXPECT_FALSE(allow_only("10.0.0.9\n10.0.0.1", "10.0.0.1"));
    // Like upstream's C strings, a list ends at a NUL byte.
    EXPECT_FALSE(allow_only(std::string_view("10.0.0.9\0 10.0.0.1", 18), "10.0.0.1"));
}

// Verifies that exact IPv4 and IPv6 address entries match only that address.
TEST_F(Access, ExactAddresses)
{
    EXPECT_TRUE(allow_only("192.0.2.7", "192.0.2.7"));
    EXPECT_FALSE(allow_only("192.0.2.7", "192.0.2.8"));
    EXPECT_TRUE(allow_only("2001:db8::1", "2001:db8::1"));
    EXPECT_TRUE(allow_only("2001:DB8:0:0::1", "2001:db8::1"));
    EXPECT_TRUE(allow_only("2001:db8::1", "2001:0db8:0000::0001"));
    EXPECT_FALSE(allow_only("2001:db8::1", "2001:db8::2"));
    EXPECT_TRUE(allow_only("::1", "::1"));
}

// Verifies that numeric forms getaddrinfo() accepts (short and octal IPv4) match as upstream.
TEST_F(Access, LegacyNumericForms)
{
    EXPECT_TRUE(allow_only("127.1", "127.0.0.1"));
    EXPECT_TRUE(allow_only("0177.0.0.1", "127.0.0.1"));
    EXPECT_TRUE(allow_only("2130706433", "127.0.0.1"));
    EXPECT_FALSE(allow_only("010.0.0.1", "10.0.0.1"));
}

// Verifies that address/bits entries work, including odd prefix lengths and the /0 forms.
TEST_F(Access, PrefixLengths)
{
    EXPECT_TRUE(allow_only("192.168.0.0/16", "192.168.4.5"));
    EXPECT_FALSE(allow_only("192.168.0.0/16", "192.169.0.1"));
    EXPECT_TRUE(allow_only("10.0.0.128/25", "10.0.0.200"));
    EXPECT_FALSE(allow_only("10.0.0.128/25", "10.0.0.100"));
    EXPECT_TRUE(allow_only("10.0.0.1/32", "10.0.0.1"));
    EXPECT_FALSE(allow_only("10.0.0.1/32", "10.0.0.2"));
    EXPECT_TRUE(allow_only("10.0.0.0/+8", "10.200.0.1"));
    EXPECT_TRUE(allow_only("10.0.0.0/08", "10.200.0.1"));
    // Zero bits matches the whole family, written in any way strtol reads as zero.
    EXPECT_TRUE(allow_only("10.0.0.0/0", "203.0.113.9"));
    EXPECT_TRUE(allow_only("10.0.0.0/-0", "203.0.113.9"));
    EXPECT_FALSE(allow_only("10.0.0.0/0", "2001:db8::1"));
    EXPECT_TRUE(allow_only("2001:db8::/32", "2001:db8:ffff::1"));
    EXPECT_FALSE(allow_only("2001:db8::/32", "2001:db9::1"));
    EXPECT_TRUE(allow_only("2001:db8::/61", "2001:db8:0:7::1"));
    EXPECT_FALSE(allow_only("2001:db8::/61", "2001:db8:0:8::1"));
    EXPECT_TRUE(allow_only("::/0", "2001:db8::1"));
    EXPECT_FALSE(allow_only("::/0", "10.0.0.1"));
    EXPECT_TRUE(allow_only("::1/128", "::1"));
}

// Verifies that address/netmask entries work, including non-contiguous and IPv6 masks.
TEST_F(Access, NetmaskForms)
{
    EXPECT_TRUE(allow_only("192.168.0.0/255.255.0.0", "192.168.77.1"));
    EXPECT_FALSE(allow_only("192.168.0.0/255.255.0.0", "192.167.77.1"));
    EXPECT_TRUE(allow_only("10.0.0.1/255.0.0.255", "10.9.9.1"));
    EXPECT_FALSE(allow_only("10.0.0.1/255.0.0.255", "10.9.9.2"));
    EXPECT_TRUE(allow_only("2001:db8::/ffff:ffff::", "2001:db8:1::5"));
    EXPECT_FALSE(allow_only("2001:db8::/ffff:ffff::", "2001:db7:1::5"));
    EXPECT_TRUE(allow_only("2001:db8::/::", "fe80::1"));
}

// Verifies that malformed masks and addresses never match and produce upstream's log lines.
TEST_F(Access, MalformedEntriesAreLogged)
{
    const auto d = check_access("10.0.0.0/33 10.0.0.0/ 10.0.0.0/x 10.0.0.0/8/9 1.2.3.4.5 ::1/129 "
                                "10.0.0.0/-1 10.0.0.0/99999999999999999999999",
                                "", AccessQuery{"10.0.0.1", kUndeterminedHost, true}, resolver);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.log_lines, (std::vector<std::string>{
                               "malformed mask in 10.0.0.0/33",
                               "malformed mask in 10.0.0.0/",
                               "malformed mask in 10.0.0.0/x",
                               "malformed mask in 10.0.0.0/8/9",
                               "error matching address 1.2.3.4.5: Name or service not known",
                               "malformed mask in 10.0.0.0/-1",
                               "malformed mask in 10.0.0.0/99999999999999999999999",
                           }));
    // "::1/129" is silently skipped for an IPv4 peer: the families differ before the mask is read.
}

// Verifies that an IPv4 entry never matches an IPv6 peer and vice versa, including IPv4-mapped
// peer text (upstream compares address families first).
TEST_F(Access, FamiliesAndMappedAddresses)
{
    EXPECT_FALSE(allow_only("10.0.0.1", "::ffff:10.0.0.1"));
    EXPECT_FALSE(allow_only("10.0.0.0/8", "::ffff:10.0.0.1"));
    EXPECT_TRUE(allow_only("::ffff:10.0.0.0/104", "::ffff:10.0.0.1"));
    EXPECT_TRUE(allow_only("::ffff:10.0.0.1", "::ffff:10.0.0.1"));
    EXPECT_FALSE(allow_only("::ffff:10.0.0.1", "10.0.0.1"));
    EXPECT_FALSE(allow_only("::1", "127.0.0.1"));
}

// Verifies that a scoped IPv6 entry needs the same scope and an unscoped one ignores it.
TEST_F(Access, Ipv6Scopes)
{
    EXPECT_TRUE(allow_only("fe80::1%1", "fe80::1%1"));
    EXPECT_FALSE(allow_only("fe80::1%1", "fe80::1%2"));
    EXPECT_TRUE(allow_only("fe80::1", "fe80::1%2"));
    EXPECT_TRUE(allow_only("fe80::%1/64", "fe80::abcd%1"));
    EXPECT_FALSE(allow_only("fe80::%1/64", "fe80::abcd%2"));
}

// Verifies that an empty or unparsable peer address matches no address entry.
TEST_F(Access, BadPeerAddressMatchesNoAddress)
{
    EXPECT_FALSE(allow_only("0.0.0.0/0", ""));
    EXPECT_FALSE(allow_only("0.0.0.0/0", "not-an-address"));
    EXPECT_TRUE(allow_only("0.0.0.0/0", "0.0.0.0"));
}

// Verifies that wildcard host name entries match the reverse name, case-insensitively on both
// sides.
TEST_F(Access, HostnameWildcards)
{
    EXPECT_TRUE(allow_only("*.example.com", "192.0.2.1", "www.example.com"));
    EXPECT_TRUE(allow_only("*.EXAMPLE.COM", "192.0.2.1", "www.example.com"));
    EXPECT_TRUE(allow_only("*.example.com", "192.0.2.1", "WWW.Example.COM"));
    EXPECT_FALSE(allow_only("*.example.com", "192.0.2.1", "example.com"));
    EXPECT_FALSE(allow_only("*.example.com", "192.0.2.1", "www.example.org"));
    EXPECT_TRUE(allow_only("host?.example.com", "192.0.2.1", "host7.example.com"));
    EXPECT_TRUE(allow_only("host[0-3].lan", "192.0.2.1", "host2.lan"));
    EXPECT_FALSE(allow_only("host[0-3].lan", "192.0.2.1", "host4.lan"));
    EXPECT_FALSE(allowed("", "*.BAD.example", "192.0.2.1", "x.bad.EXAMPLE"));
    EXPECT_TRUE(resolver.lookups.empty());
}

// Verifies that a specific wildcard never matches the placeholder names, but that they are
// ordinary names to the matcher, so "*" (and the placeholder itself) matches them as upstream
// does. This keeps "hosts deny = *" denying everyone when reverse lookup is off.
TEST_F(Access, PlaceholderHostNames)
{
    EXPECT_FALSE(allow_only("*.example.com", "192.0.2.1", kUnknownHost));
    EXPECT_FALSE(allow_only("*.example.com", "192.0.2.1", kUndeterminedHost));
    EXPECT_TRUE(allow_only("*", "192.0.2.1", kUnknownHost));
    EXPECT_TRUE(allow_only("*", "192.0.2.1", kUndeterminedHost));
    EXPECT_FALSE(allowed("", "*", "192.0.2.1", kUndeterminedHost));
    EXPECT_FALSE(allowed("", "*", "192.0.2.1", kUnknownHost));
    EXPECT_TRUE(allow_only("unknown", "192.0.2.1", kUnknownHost));
    EXPECT_FALSE(allow_only("unknown", "192.0.2.1", kUndeterminedHost));
}

// Verifies that an empty host name skips all name matching, even "*".
TEST_F(Access, EmptyHostSkipsNameMatching)
{
    EXPECT_FALSE(allow_only("*", "192.0.2.1", ""));
    resolver.names["good.example"] = std::vector<std::string>{"192.0.2.1"};
    EXPECT_FALSE(allow_only("good.example", "192.0.2.1", ""));
    EXPECT_TRUE(resolver.lookups.empty());
}

// Verifies that a plain host name matches when the peer is one of its addresses, that the name is
// looked up lower-cased, and that an UNDETERMINED host takes the entry as its name.
TEST_F(Access, ForwardLookup)
{
    resolver.names["good.example"] = std::vector<std::string>{"192.0.2.9", "192.0.2.5"};
    const auto d = check_access("Good.Example", "",
                                AccessQuery{"192.0.2.5", kUndeterminedHost, true}, resolver);
    EXPECT_TRUE(d.allowed);
    ASSERT_TRUE(d.host_name.has_value());
    EXPECT_EQ(*d.host_name, "good.example");
    EXPECT_EQ(resolver.lookups, std::vector<std::string>{"good.example"});

    const auto unknown = check_access("good.example", "",
                                      AccessQuery{"192.0.2.5", kUnknownHost, true}, resolver);
    EXPECT_TRUE(unknown.allowed);
    EXPECT_FALSE(unknown.host_name.has_value());

    EXPECT_FALSE(allow_only("good.example", "192.0.2.6"));
    EXPECT_FALSE(allow_only("good.example", "::ffff:192.0.2.5"));
}

// Verifies that a reverse name matching the entry wins without any forward lookup.
TEST_F(Access, ReverseNameMatchNeedsNoLookup)
{
    const auto d = check_access("www.example.com", "",
                                AccessQuery{"192.0.2.5", "WWW.example.com", true}, resolver);
    EXPECT_TRUE(d.allowed);
    EXPECT_FALSE(d.host_name.has_value());
    EXPECT_TRUE(resolver.lookups.empty());
}

// Verifies that "forward lookup = no" stops all lookups.
TEST_F(Access, ForwardLookupOff)
{
    resolver.names["good.example"] = std::vector<std::string>{"192.0.2.5"};
    EXPECT_FALSE(allowed("good.example", "", "192.0.2.5", kUndeterminedHost, false));
    EXPECT_TRUE(allowed("", "gone.example", "192.0.2.5", kUndeterminedHost, false));
    EXPECT_TRUE(resolver.lookups.empty());
}

// Verifies that (3.5.0 fail-closed rule) an unresolvable deny entry denies, an unresolvable allow
// entry just does not match, and a resolvable deny entry only denies its own addresses.
TEST_F(Access, UnresolvableDenyFailsClosed)
{
    EXPECT_FALSE(allowed("", "gone.example", "192.0.2.5"));
    EXPECT_FALSE(allowed("", "gone.example", "192.0.2.5", "client.example.org"));
    EXPECT_FALSE(allow_only("gone.example", "192.0.2.5"));
    EXPECT_FALSE(allowed("gone.example", "gone.example", "192.0.2.5"));
    resolver.names["bad.example"] = std::vector<std::string>{"198.51.100.1"};
    EXPECT_TRUE(allowed("", "bad.example", "192.0.2.5"));
    EXPECT_FALSE(allowed("", "bad.example", "198.51.100.1"));
    // An allow entry still admits the client before an unresolvable deny entry is consulted.
    EXPECT_TRUE(allowed("192.0.2.0/24", "gone.example", "192.0.2.5"));
    // A name answered with no addresses is resolvable: nothing matches, nothing fails closed.
    resolver.names["empty.example"] = std::vector<std::string>{};
    EXPECT_TRUE(allowed("", "empty.example", "192.0.2.5"));
}

// Verifies that addresses, masks, IPv6 literals and wildcards are never looked up.
TEST_F(Access, NonNamesAreNeverLookedUp)
{
    EXPECT_TRUE(allowed("", "10.0.0.300 1.2.3.4/8 ::1 *.x a?b [ab]c 1.2.3 fe80::1%1 x/y",
                        "192.0.2.5"));
    EXPECT_TRUE(resolver.lookups.empty());
}

// Verifies that @netgroup entries ask the group with the host name and that a lone '@' is a name.
TEST_F(Access, Netgroups)
{
    resolver.groups["admins"] = {"ops.example"};
    EXPECT_TRUE(allow_only("@Admins", "192.0.2.5", "ops.example"));
    EXPECT_FALSE(allow_only("@admins", "192.0.2.5", "dev.example"));
    EXPECT_EQ(resolver.netgroup_queries,
              (std::vector<std::string>{"admins/ops.example", "admins/dev.example"}));
    // A netgroup miss in a deny list is not a failure to resolve.
    EXPECT_TRUE(allowed("", "@nosuchgroup", "192.0.2.5", "ops.example"));
    EXPECT_TRUE(resolver.lookups.empty());
    EXPECT_FALSE(allowed("", "@", "192.0.2.5", "ops.example"));
    EXPECT_EQ(resolver.lookups, std::vector<std::string>{"@"});
}

// Verifies that the PROXY-peer check trusts nobody on an empty list, matches addresses and masks,
// never resolves names, and lets name patterns see the host "UNDETERMINED".
TEST_F(Access, ProxyProtocolPeers)
{
    resolver.names["lb.example"] = std::vector<std::string>{"127.0.0.1"};
    EXPECT_FALSE(allow_proxy_protocol_peer("", "127.0.0.1", resolver));
    EXPECT_TRUE(allow_proxy_protocol_peer("127.0.0.1", "127.0.0.1", resolver));
    EXPECT_TRUE(allow_proxy_protocol_peer("10.0.0.1, 127.0.0.0/8", "127.0.0.1", resolver));
    EXPECT_FALSE(allow_proxy_protocol_peer("10.0.0.0/8", "127.0.0.1", resolver));
    EXPECT_TRUE(allow_proxy_protocol_peer("::1", "::1", resolver));
    EXPECT_FALSE(allow_proxy_protocol_peer("lb.example", "127.0.0.1", resolver));
    EXPECT_TRUE(resolver.lookups.empty());
    EXPECT_TRUE(allow_proxy_protocol_peer("*", "203.0.113.1", resolver));
    EXPECT_TRUE(allow_proxy_protocol_peer("Undetermined", "203.0.113.1", resolver));
    const auto d = check_proxy_protocol_peer("127.0.0.1/40", "127.0.0.1", resolver);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.log_lines, std::vector<std::string>{"malformed mask in 127.0.0.1/40"});
    EXPECT_FALSE(d.host_name.has_value());
}

// Verifies that names_needing_lookup() reports plain names only, lower-cased and without
// duplicates.
TEST_F(Access, NamesNeedingLookup)
{
    EXPECT_EQ(names_needing_lookup("Foo.example, 10.0.0.1 *.x @grp @ ::1 foo.example\tbar "
                                   "1.2.3.4/8 a[b 1.2.3"),
              (std::vector<std::string>{"foo.example", "@", "bar"}));
    EXPECT_TRUE(names_needing_lookup("").empty());
}

// Verifies that a PrefetchedNameResolver answers only what it was given.
TEST_F(Access, PrefetchedResolver)
{
    PrefetchedNameResolver pre;
    for (const std::string& name : names_needing_lookup("good.example gone.example")) {
        if (name == "good.example")
            pre.set(name, std::vector<std::string>{"192.0.2.5"});
        else
            pre.set(name, std::nullopt);
    }
    const AccessQuery peer{"192.0.2.5", kUnknownHost, true};
    EXPECT_TRUE(allow_access("good.example", "", peer, pre));
    EXPECT_FALSE(allow_access("", "gone.example", peer, pre));
    EXPECT_FALSE(allow_access("", "never.asked", peer, pre));
    EXPECT_EQ(pre.addresses_of("good.example"), (std::vector<std::string>{"192.0.2.5"}));
}

} // namespace
} // namespace ocr::daemon
