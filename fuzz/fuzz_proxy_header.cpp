// SPDX-License-Identifier: MIT
// Fuzz target: the PROXY protocol header parser, checking that its answers agree with each
// other when the same bytes arrive cut short or followed by more.
#include "daemon/proxy_header.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using ocr::daemon::ProxyParse;
using Status = ProxyParse::Status;

[[noreturn]] void fail()
{
    __builtin_trap();
}

bool same(const ProxyParse& a, const ProxyParse& b)
{
    return a.status == b.status && a.consumed == b.consumed && a.version == b.version && a.source == b.source &&
           a.destination == b.destination;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const ProxyParse p = ocr::daemon::parse_proxy_header(in);
    switch (p.status) {
    case Status::Done: {
        if (p.consumed == 0 || p.consumed > in.size())
            fail();
        if (p.version == 1 && (p.consumed > ocr::daemon::kProxyV1MaxLength || in[p.consumed - 1] != '\n'))
            fail();
        if (p.version == 2 && p.consumed > ocr::daemon::kProxyV2FixedLength + ocr::daemon::kProxyV2MaxPayload)
            fail();
        if (p.version != 1 && p.version != 2)
            fail();
        if (p.source.has_value() != p.destination.has_value())
            fail();
        // The header alone decides: without the bytes after it, the answer is the same.
        if (!same(p, ocr::daemon::parse_proxy_header(in.substr(0, p.consumed))))
            fail();
        // One byte short of the header is never complete.
        if (ocr::daemon::parse_proxy_header(in.substr(0, p.consumed - 1)).status != Status::NeedMore)
            fail();
        break;
    }
    case Status::NeedMore: {
        if (p.consumed != 0 || in.size() >= ocr::daemon::kProxyV2FixedLength + ocr::daemon::kProxyV2MaxPayload)
            fail();
        // Any shorter prefix could also still become a header.
        if (!in.empty() && ocr::daemon::parse_proxy_header(in.substr(0, in.size() - 1)).status != Status::NeedMore)
            fail();
        break;
    }
    case Status::Invalid: {
        if (p.reason.empty())
            fail();
        // More bytes cannot repair a header already refused.
        const std::string longer = std::string(in) + "\r\n";
        if (ocr::daemon::parse_proxy_header(longer).status != Status::Invalid)
            fail();
        break;
    }
    }
    return 0;
}
