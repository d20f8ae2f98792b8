// SPDX-License-Identifier: MIT
#include "worker/protocol_start.hpp"

#include "daemon/session_setup.hpp"
#include "protocol/server_setup.hpp"

namespace ocr::worker {

std::variant<StartedProtocol, StartFailure> start_protocol(transfer::Connection& conn, daemon::ServerOptions& options)
{
    StartedProtocol out;
    out.plan = daemon::plan_protocol_setup(options);
    const daemon::ProtocolSetupPlan& plan = out.plan;
    if (plan.rejection)
        return StartFailure{plan.rejection->message, plan.rejection->exit_code};

    // Upstream setup_protocol: a server picks the seed unless the client chose one.
    out.seed = plan.checksum_seed;
    while (out.seed == 0)
        out.seed = protocol::make_checksum_seed();
    conn.write(daemon::encode_setup(plan, out.seed));
    conn.flush();

    // Upstream negotiate_the_strings reads the checksum list first, then the compress list.
    std::optional<protocol::PeerNameList> checksum_list;
    std::optional<protocol::PeerNameList> compress_list;
    if (plan.exchange_checksum_list)
        checksum_list = protocol::read_peer_name_list(conn);
    if (checksum_list && checksum_list->over_long)
        return StartFailure{"", 4};
    if (plan.exchange_compress_list)
        compress_list = protocol::read_peer_name_list(conn);
    if (compress_list && compress_list->over_long)
        return StartFailure{"", 4};

    protocol::ChecksumNegotiationInputs in;
    in.protocol = plan.protocol;
    in.proper_seed_order = plan.proper_seed_order;
    in.negotiated_strings = plan.negotiated_strings;
    in.checksum_choice = options.checksum_choice;
    in.client_list = checksum_list;
    const std::string forced_checksums = plan.forced_checksum_list.value_or("");
    if (plan.forced_checksum_list)
        in.server_list = forced_checksums;
    auto chosen = protocol::negotiate_checksums(in);
    if (auto* failed = std::get_if<protocol::ChecksumNegotiationError>(&chosen))
        return StartFailure{failed->message, protocol::to_int(failed->exit_code)};
    out.checksums = std::get<protocol::ChecksumSelection>(chosen);

    const bool compressing = options.do_compression != daemon::kCpresNone;
    std::optional<protocol::Compression> negotiated;
    if (compress_list) {
        const std::string ours = plan.forced_compress_list.value_or(std::string(protocol::kCompressNameList));
        negotiated = protocol::choose_compression(compress_list->names, ours);
        // Upstream's server exits quietly; the client reports the failure itself.
        if (!negotiated)
            return StartFailure{"", 4};
    }
    if (compressing) {
        const std::optional<std::string_view> choice =
            options.compress_choice ? std::optional<std::string_view>(*options.compress_choice) : std::nullopt;
        const auto final = protocol::final_compression(negotiated, choice, true);
        if (!final)
            return StartFailure{"unknown compress name: " + options.compress_choice.value_or("") + "\n", 4};
        const protocol::CompressionSetting setting =
            protocol::resolve_compression_level(*final, options.do_compression_level);
        if (setting.compression != protocol::Compression::None)
            out.compression = setting;
    }
    return out;
}

} // namespace ocr::worker
