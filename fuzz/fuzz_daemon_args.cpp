// SPDX-License-Identifier: MIT
// Fuzz target: arbitrary client bytes after "@RSYNCD: OK" through the argument reader (both
// framings), read_args' processing and the option parser.
#include "daemon/daemon_args.hpp"
#include "daemon/server_options.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0)
        return 0;
    const std::uint8_t mode = data[0];
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    // Small bounds sometimes, so the limits themselves get exercised.
    const bool nul = mode & 1;
    const std::size_t max_args = (mode & 2) ? 8 : ocr::daemon::kMaxDaemonArgs;
    const std::size_t max_len = (mode & 4) ? 16 : ocr::daemon::kMaxDaemonArgLen;

    ocr::daemon::DaemonArgReader reader(nul, max_args, max_len);
    // Feed in two pieces to exercise the incremental path.
    const std::size_t half = input.size() / 2;
    std::size_t used = reader.feed(input.substr(0, half));
    if (!reader.done() && !reader.error())
        used += reader.feed(input.substr(half));
    if (used > input.size())
        __builtin_trap();
    const auto raw = reader.take();
    if (raw.size() > max_args)
        __builtin_trap();
    for (const auto& a : raw) {
        if (a.size() > max_len || a.empty())
            __builtin_trap();
    }

    ocr::daemon::DaemonArgContext actx;
    actx.module = "mod";
    actx.sanitize_paths = mode & 8;
    actx.relative_paths = mode & 16;
    actx.max_args = max_args;
    const auto processed = ocr::daemon::process_daemon_args(raw, actx);
    if (!processed.ok)
        return 0;

    static const ocr::daemon::RefuseSet refused = ocr::daemon::parse_refuse_options("delete");
    ocr::daemon::ServerParseContext pctx;
    pctx.now = 1700000000;
    pctx.protocol_version = nul ? 32 : 29;
    const auto r = ocr::daemon::parse_server_args(processed.argv, refused, pctx);
    if (r.ok && r.wants_second_batch) {
        ocr::daemon::DaemonArgReader second(true, max_args, max_len, 0);
        second.feed(input.substr(used));
        actx.secluded_batch = true;
        const auto p2 = ocr::daemon::process_daemon_args(second.take(), actx);
        if (p2.ok)
            (void)ocr::daemon::parse_secluded_args(p2.argv, refused, pctx, r);
    }
    return 0;
}
