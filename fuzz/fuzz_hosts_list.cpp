// SPDX-License-Identifier: MIT
// Fuzz target: "hosts allow" / "hosts deny" / "proxy protocol hosts" values and peer address and
// name text against a fake resolver, checking the decision's invariants.
#include "daemon/access.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void fail()
{
    __builtin_trap();
}

/// Deterministic answers without touching DNS or NSS; records every name it is asked for.
class FakeResolver final : public ocr::daemon::NameResolver {
public:
    explicit FakeResolver(std::string peer) : peer_(std::move(peer)) {}

    std::optional<std::vector<std::string>> addresses_of(std::string_view hostname) override
    {
        asked.emplace_back(hostname);
        switch (hostname.size() % 4) {
        case 0:
            return std::nullopt;
        case 1:
            return std::vector<std::string>{};
        case 2:
            return std::vector<std::string>{"192.0.2.1", "2001:db8::1"};
        default:
            return std::vector<std::string>{"198.51.100.7", peer_};
        }
    }

    bool in_netgroup(std::string_view netgroup, std::string_view host) override
    {
        return !host.empty() && netgroup.size() % 2 == 0;
    }

    std::vector<std::string> asked;

private:
    std::string peer_;
};

bool subset(const std::vector<std::string>& asked, const std::vector<std::string>& allowed_names)
{
    return std::all_of(asked.begin(), asked.end(), [&](const std::string& a) {
        return std::find(allowed_names.begin(), allowed_names.end(), a) != allowed_names.end();
    });
}

} // namespace

// Input: one flags byte, then "allow\ndeny\naddr\nhost" (missing parts are empty).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const unsigned flags = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string_view parts[4];
    for (auto& part : parts) {
        const std::size_t nl = rest.find('\n');
        part = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
    const std::string_view allow = parts[0];
    const std::string_view deny = parts[1];
    const std::string_view addr = parts[2];
    std::string_view host = parts[3];
    if ((flags & 6) == 2)
        host = ocr::daemon::kUndeterminedHost;
    else if ((flags & 6) == 4)
        host = ocr::daemon::kUnknownHost;
    const bool forward = (flags & 1) != 0;

    FakeResolver resolver{std::string(addr)};
    const auto decision =
        ocr::daemon::check_access(allow, deny, {addr, host, forward}, resolver);

    if (allow.empty() && deny.empty() && !decision.allowed)
        fail();
    if (!forward && !resolver.asked.empty())
        fail();
    std::vector<std::string> names = ocr::daemon::names_needing_lookup(allow);
    const std::vector<std::string> deny_names = ocr::daemon::names_needing_lookup(deny);
    names.insert(names.end(), deny_names.begin(), deny_names.end());
    if (!subset(resolver.asked, names))
        fail();
    if (decision.host_name) {
        if (host != ocr::daemon::kUndeterminedHost)
            fail();
        if (std::find(names.begin(), names.end(), *decision.host_name) == names.end())
            fail();
    }

    FakeResolver again{std::string(addr)};
    if (ocr::daemon::allow_access(allow, deny, {addr, host, forward}, again) != decision.allowed)
        fail();

    FakeResolver proxy_resolver{std::string(addr)};
    const auto proxy = ocr::daemon::check_proxy_protocol_peer(allow, addr, proxy_resolver);
    if (!proxy_resolver.asked.empty() || proxy.host_name)
        fail();
    if (allow.empty() && proxy.allowed)
        fail();
    return 0;
}
