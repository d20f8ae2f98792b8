// SPDX-License-Identifier: MIT
#include "daemon/session_descriptor.hpp"

#include "common/tlv.hpp"

namespace ocr::daemon {
namespace {
enum Tag : std::uint16_t {
    kGeneration = 1,
    kConnectionId,
    kModule,
    kAuthUser,
    kReadOnly,
    kProtocol,
    kRemoteProtocol,
    kAddr,
    kHost,
    kArg,
    kSecludedArg,
    kEarlyInput,
    kDeadline,
    kHasSecluded,
    kPendingInput,
};
} // namespace

std::string encode_session(const SessionDescriptor& s)
{
    TlvWriter w;
    w.add_int(kGeneration, static_cast<std::int64_t>(s.config_generation))
        .add_int(kConnectionId, static_cast<std::int64_t>(s.connection_id))
        .add(kModule, s.module)
        .add(kAuthUser, s.auth_user)
        .add_bool(kReadOnly, s.read_only)
        .add_int(kProtocol, s.protocol)
        .add_int(kRemoteProtocol, s.remote_protocol)
        .add(kAddr, s.addr)
        .add(kHost, s.host)
        .add_list(kArg, s.args)
        .add_bool(kHasSecluded, !s.secluded_args.empty())
        .add_list(kSecludedArg, s.secluded_args)
        .add(kEarlyInput, s.early_input)
        .add(kPendingInput, s.pending_input)
        .add_int(kDeadline, s.handshake_deadline_ms);
    return w.bytes();
}

std::optional<SessionDescriptor> decode_session(std::string_view bytes)
{
    auto r = TlvReader::parse(bytes);
    if (!r)
        return std::nullopt;
    SessionDescriptor s;
    auto gen = r->get_int(kGeneration);
    auto conn = r->get_int(kConnectionId);
    auto module = r->get(kModule);
    auto user = r->get(kAuthUser);
    auto ro = r->get_int(kReadOnly);
    auto proto = r->get_int(kProtocol);
    auto remote = r->get_int(kRemoteProtocol);
    auto addr = r->get(kAddr);
    auto host = r->get(kHost);
    auto early = r->get(kEarlyInput);
    auto deadline = r->get_int(kDeadline);
    auto pending = r->get(kPendingInput);
    if (!pending || !gen || !conn || !module || !user || !ro || !proto || !remote || !addr || !host || !early ||
        !deadline)
        return std::nullopt;
    if (*proto < 0 || *proto > 100 || *remote < 0 || *remote > 1000)
        return std::nullopt;
    s.config_generation = static_cast<std::uint64_t>(*gen);
    s.connection_id = static_cast<std::uint64_t>(*conn);
    s.module = std::string(*module);
    s.auth_user = std::string(*user);
    s.read_only = *ro != 0;
    s.protocol = static_cast<int>(*proto);
    s.remote_protocol = static_cast<int>(*remote);
    s.addr = std::string(*addr);
    s.host = std::string(*host);
    s.args = r->get_list(kArg);
    s.secluded_args = r->get_list(kSecludedArg);
    s.early_input = std::string(*early);
    s.handshake_deadline_ms = *deadline;
    s.pending_input = std::string(*pending);
    return s;
}

} // namespace ocr::daemon
