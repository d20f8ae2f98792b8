// SPDX-License-Identifier: MIT
// Fuzz target: NUL-separated argument lists into the server option parser with a few refuse
// sets, then the post-parse policy, as a daemon would run them.
#include "daemon/module_policy.hpp"
#include "daemon/refuse_options.hpp"
#include "daemon/server_options.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::vector<std::string> split_args(std::string_view s)
{
    std::vector<std::string> out{"rsyncd"};
    std::size_t pos = 0;
    while (pos <= s.size() && out.size() < 4096) {
        const std::size_t end = s.find('\0', pos);
        if (end == std::string_view::npos) {
            out.emplace_back(s.substr(pos));
            break;
        }
        out.emplace_back(s.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0)
        return 0;
    static const ocr::daemon::RefuseSet sets[] = {
        ocr::daemon::parse_refuse_options(""),
        ocr::daemon::parse_refuse_options("delete a compress partial"),
        ocr::daemon::parse_refuse_options("* !a !v !r !l !p !t !g !o !D !e !z"),
        ocr::daemon::parse_refuse_options("delete-before delete-during inplace no-iconv progress"),
    };
    const std::uint8_t mode = data[0];
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    // The second batch, if any, follows a "\0\0" in the input.
    const std::size_t split = input.find(std::string_view("\0\0", 2));
    const std::string_view first = split == std::string_view::npos ? input : input.substr(0, split);
    const std::string_view rest =
        split == std::string_view::npos ? std::string_view() : input.substr(split + 2);

    const auto& refused = sets[mode & 3];
    ocr::daemon::ServerParseContext ctx;
    ctx.now = 1700000000;
    ctx.protocol_version = 27 + (mode >> 2) % 6;
    ctx.am_server = mode & 0x40;
    ctx.sanitize_paths = mode & 0x80;
    ctx.module_dir = "/srv/mod";
    ctx.module_dirlen = ctx.sanitize_paths ? 8 : 0;
    if (mode & 0x20)
        ctx.daemon_excludes = [](std::string_view p, bool) {
            return p.find("secret") != std::string_view::npos;
        };

    auto r = ocr::daemon::parse_server_args(split_args(first), refused, ctx);
    if (r.ok && r.wants_second_batch) {
        auto second = split_args(rest);
        second[0] = "rsync";
        r = ocr::daemon::parse_secluded_args(second, refused, ctx, r);
    }
    const bool option_error = r.outcome == ocr::daemon::ParseOutcome::OptionError;
    if (!r.ok && option_error && r.client_message.size() > 7 + 199)
        __builtin_trap();

    ocr::daemon::ServerOptions o = r.options;
    (void)ocr::daemon::plan_protocol_setup(o);
    if (r.ok) {
        (void)ocr::daemon::check_module_policy(o, mode & 1, mode & 2);
        ocr::daemon::ModuleOverrides m;
        m.max_verbosity = mode % 7;
        m.timeout = mode;
        ocr::daemon::apply_module_overrides(o, m);
    }
    return 0;
}
