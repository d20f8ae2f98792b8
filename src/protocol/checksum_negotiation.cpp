// SPDX-License-Identifier: MIT
// The server's side of the checksum choice: --checksum-choice, the exchanged name lists,
// or the implied default, with upstream 3.5.0's preference rule and failure texts.
#include "protocol/checksum_negotiation.hpp"

#include "common/strings.hpp"
#include "protocol/wire.hpp"

#include <array>
#include <stdexcept>

namespace ocr::protocol {
namespace {

constexpr std::size_t kKindCount = static_cast<std::size_t>(ChecksumKind::Xxh128) + 1;

/// Rank of each kind in our list, 1 = most preferred, 0 = not offered (upstream's "saw").
using Ranks = std::array<int, kKindCount>;

std::size_t index_of(ChecksumKind kind) noexcept
{
    return static_cast<std::size_t>(kind);
}

Ranks rank_server_list(std::string_view list)
{
    Ranks ranks{};
    int next = 0;
    for (const std::string& name : split_ws(list)) {
        const auto kind = checksum_by_name(name);
        if (kind && ranks[index_of(*kind)] == 0)
            ranks[index_of(*kind)] = ++next;
    }
    return ranks;
}

/// Our list again, in rank order, each name preceded by a space (upstream
/// compat.c:recv_negotiate_str rebuilds it this way for its error message).
std::string rebuilt_list(const Ranks& ranks)
{
    std::string out;
    for (int rank = 1; rank <= static_cast<int>(kKindCount); ++rank) {
        for (std::size_t k = 0; k < kKindCount; ++k) {
            if (ranks[k] == rank) {
                out += ' ';
                out += checksum_name(static_cast<ChecksumKind>(k));
            }
        }
    }
    return out.empty() ? " INVALID" : out;
}

/// Upstream: compat.c:parse_negotiate_str. Only spaces separate the client's names.
std::optional<ChecksumKind> best_common(const Ranks& ranks, std::string_view client)
{
    std::optional<ChecksumKind> best;
    int best_rank = 0;
    std::size_t pos = 0;
    while (pos < client.size()) {
        while (pos < client.size() && client[pos] == ' ')
            ++pos;
        if (pos == client.size())
            break;
        std::size_t end = client.find(' ', pos);
        if (end == std::string_view::npos)
            end = client.size();
        const auto kind = checksum_by_name(client.substr(pos, end - pos));
        pos = end;
        if (!kind)
            continue;
        const int rank = ranks[index_of(*kind)];
        if (rank == 0 || (best && best_rank <= rank))
            continue;
        best = kind;
        best_rank = rank;
        if (rank == 1)
            break;
    }
    return best;
}

/// The transfer checksum upstream implies when nothing was chosen by name
/// (Upstream: checksum.c:parse_csum_name with no name or "auto").
TransferChecksum implied_checksum(int protocol, bool proper_seed_order)
{
    if (protocol < 30)
        return {ChecksumKind::Md4Old, SeedPlacement::Append};
    // Without the seed fix upstream uses its built-in MD5, which hashes the seed last;
    // with it, the "md5" table entry, which Debian's build runs through OpenSSL (seed first).
    return {ChecksumKind::Md5, proper_seed_order ? SeedPlacement::Prepend : SeedPlacement::Append};
}

/// A kind chosen by name. Debian's OpenSSL has no MD4 without the legacy provider, so its
/// rsync falls back to the built-in MD4 (seed last); MD5 by name goes through OpenSSL.
TransferChecksum named_checksum(ChecksumKind kind)
{
    const bool builtin_md4 = kind == ChecksumKind::Md4 || kind == ChecksumKind::Md4Old;
    return {kind, builtin_md4 ? SeedPlacement::Append : SeedPlacement::Prepend};
}

struct ParsedName {
    std::optional<TransferChecksum> sum;
    std::string error;
};

/// Upstream: checksum.c:parse_csum_name. @p shown is what its error message prints: it
/// hands printf the name's start without cutting it at the comma.
ParsedName parse_choice_name(std::string_view name, std::string_view shown, const ChecksumNegotiationInputs& in)
{
    if (iequals(name, "auto"))
        return {implied_checksum(in.protocol, in.proper_seed_order), {}};
    if (const auto kind = checksum_by_name(name))
        return {named_checksum(*kind), {}};
    return {std::nullopt, "unknown checksum name: " + std::string(shown) + "\n"};
}

std::variant<ChecksumSelection, ChecksumNegotiationError> from_choice(const ChecksumNegotiationInputs& in)
{
    const std::string& choice = *in.checksum_choice;
    const std::size_t comma = choice.find(',');
    ChecksumSelection sel;
    sel.name = choice;
    if (comma == std::string::npos) {
        ParsedName p = parse_choice_name(choice, choice, in);
        if (!p.sum)
            return ChecksumNegotiationError{p.error, ExitCode::Unsupported};
        sel.transfer = *p.sum;
        sel.file_list = p.sum->kind;
        return sel;
    }
    const std::string_view all(choice);
    ParsedName xfer = parse_choice_name(all.substr(0, comma), all, in);
    if (!xfer.sum)
        return ChecksumNegotiationError{xfer.error, ExitCode::Unsupported};
    ParsedName file = parse_choice_name(all.substr(comma + 1), all.substr(comma + 1), in);
    if (!file.sum)
        return ChecksumNegotiationError{file.error, ExitCode::Unsupported};
    sel.transfer = *xfer.sum;
    sel.file_list = file.sum->kind;
    return sel;
}

} // namespace

PeerNameList read_peer_name_list(ByteSource& in)
{
    // Upstream: io.c:read_vstring, whose length check comes before the bytes are read.
    PeerNameList list;
    std::size_t len = get_byte(in);
    if ((len & 0x80) != 0)
        len = ((len & 0x7F) << 8) | get_byte(in);
    list.length = len;
    if (len > kMaxNameListLength) {
        list.over_long = true;
        return list;
    }
    list.names.resize(len);
    in.read_exact(std::span<std::byte>(reinterpret_cast<std::byte*>(list.names.data()), len));
    return list;
}

std::variant<ChecksumSelection, ChecksumNegotiationError> negotiate_checksums(const ChecksumNegotiationInputs& in)
{
    // Upstream: checksum.c:parse_checksum_choice; a forwarded choice means no lists at all.
    if (in.checksum_choice)
        return from_choice(in);

    const Ranks ranks = rank_server_list(in.server_list);
    const bool exchanged = in.negotiated_strings;
    if (exchanged != in.client_list.has_value())
        throw std::invalid_argument("a client checksum list comes exactly with negotiated strings");

    // Upstream: compat.c:negotiate_the_strings. Without the exchange the server still
    // checks its own list against the implied name.
    std::string client = exchanged ? in.client_list->names : std::string(in.protocol >= 30 ? "md5" : "md4");
    if (exchanged && in.client_list->over_long) {
        // Upstream: io.c:read_vstring complains, then the negotiation fails silently.
        return ChecksumNegotiationError{"over-long vstring received (" + std::to_string(in.client_list->length) +
                                            " > " + std::to_string(kMaxNameListLength) + ")\n",
                                        ExitCode::Unsupported};
    }
    const auto best = client.empty() ? std::nullopt : best_common(ranks, client);
    if (!best) {
        // Upstream: compat.c:recv_negotiate_str. A server that exchanged lists leaves the
        // complaint to the client (which has both lists too) and just exits.
        if (exchanged)
            return ChecksumNegotiationError{{}, ExitCode::Unsupported};
        return ChecksumNegotiationError{"Failed to negotiate a checksum choice.\nClient list: " + client +
                                            "\nServer list:" + rebuilt_list(ranks) + "\n",
                                        ExitCode::Unsupported};
    }

    ChecksumSelection sel;
    if (exchanged) {
        sel.transfer = named_checksum(*best);
        sel.negotiated = true;
    } else {
        sel.transfer = implied_checksum(in.protocol, in.proper_seed_order);
    }
    sel.file_list = sel.transfer.kind;
    sel.name = std::string(checksum_name(sel.transfer.kind));
    return sel;
}

} // namespace ocr::protocol
