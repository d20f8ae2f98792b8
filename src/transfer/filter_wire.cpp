// SPDX-License-Identifier: MIT
// Receiving the client's filter list from the wire (upstream exclude.c:recv_filter_list).
#include "transfer/filter_wire.hpp"

#include "protocol/wire.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace ocr::transfer {

using protocol::ExitCode;

bool client_sends_filter_list(const FilterOptions& options, const WireFilterParams& params) noexcept
{
    // Upstream: exclude.c:recv_filter_list (receiver_wants_list), mirrored by the client's
    // send_filter_list().
    const bool receiver_wants_list =
        params.prune_empty_dirs
        || (params.delete_mode && (!options.delete_excluded || options.protocol_version >= 29));
    return options.role == FilterSide::Sender || receiver_wants_list;
}

void recv_filter_list(protocol::ByteSource& in, FilterSet& set, const WireFilterParams& params)
{
    const FilterOptions& opt = set.options();
    const XFlags xflags = opt.protocol_version >= 29 ? XFlags{0} : XFlags{xflag::OldPrefixes};
    const std::string& who = set.who();
    if (client_sends_filter_list(opt, params)) {
        std::size_t count = 0;
        std::size_t bytes = 0;
        std::string rule;
        for (;;) {
            // Upstream reads the length into an unsigned int, so a negative one is huge.
            const auto len = static_cast<std::uint32_t>(protocol::get_i32(in));
            if (len == 0)
                break;
            if (len >= kMaxWireRuleLen) {
                throw FilterError(ExitCode::Malloc,
                                  "[" + who + "] buffer overflow: recv_rules (file=exclude.c, "
                                              "line=1982)");
            }
            if (++count > opt.limits.max_wire_rules || (bytes += len) > opt.limits.max_wire_bytes) {
                throw FilterError(ExitCode::Malloc,
                                  "[" + who + "] too many filter rules from the client (limit "
                                      + std::to_string(opt.limits.max_wire_rules) + " rules, "
                                      + std::to_string(opt.limits.max_wire_bytes) + " bytes)");
            }
            rule.assign(len, '\0');
            in.read_exact(std::as_writable_bytes(std::span<char>(rule.data(), rule.size())));
            set.add_client_rules(rule, 0, xflags);
        }
    }
    if (params.cvs_exclude) {
        // The server adds the -C rules itself, after the client's.
        if (opt.role == FilterSide::Sender || opt.protocol_version < 29)
            set.add_client_rules(":C", 0, 0);
        if (opt.role == FilterSide::Sender)
            set.add_client_rules("-C", 0, 0);
    }
}

} // namespace ocr::transfer
