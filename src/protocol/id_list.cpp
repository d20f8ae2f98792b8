// SPDX-License-Identifier: MIT
// Id lists. Order and terminators follow upstream uidlist.c:send_one_list / recv_id_list.
#include "protocol/id_list.hpp"

#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"

namespace ocr::protocol {
namespace {

void put_varint30(std::string& out, int protocol, std::int32_t v)
{
    if (protocol < 30)
        put_i32(out, v);
    else
        put_varint(out, v);
}

std::int32_t get_varint30(ByteSource& in, int protocol)
{
    return protocol < 30 ? get_i32(in) : get_varint(in);
}

} // namespace

std::optional<std::string> IdRegistry::add(std::uint32_t id)
{
    if (!known_.insert(id).second)
        return std::nullopt;
    std::optional<std::string> name = lookup_ ? lookup_(id) : std::nullopt;
    order_.push_back(Seen{id, name});
    return name;
}

void IdRegistry::encode(std::string& out, int protocol, bool xmit_id0_names) const
{
    // Upstream prepends each new id to a linked list, so the newest goes first; id 0 and
    // ids without a name are left out (the receiver keeps those numeric).
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
        if (it->id != 0 && it->name)
            put_id_name(out, protocol, it->id, *it->name);
    }
    if (xmit_id0_names) {
        const std::optional<std::string> root = lookup_ ? lookup_(0) : std::nullopt;
        put_id_name(out, protocol, 0, root.value_or(std::string()));
    } else {
        put_varint30(out, protocol, 0);
    }
}

void put_id_name(std::string& out, int protocol, std::uint32_t id, std::string_view name)
{
    if (name.size() > kMaxIdNameLength)
        name = name.substr(0, kMaxIdNameLength);
    put_varint30(out, protocol, static_cast<std::int32_t>(id));
    put_byte(out, static_cast<std::uint8_t>(name.size()));
    out.append(name);
}

std::string read_id_name(ByteSource& in)
{
    const std::size_t len = get_byte(in);
    std::string name(len, '\0');
    in.read_exact(std::span<std::byte>(reinterpret_cast<std::byte*>(name.data()), name.size()));
    return name;
}

std::vector<IdName> read_id_list(ByteSource& in, int protocol, bool xmit_id0_names)
{
    std::vector<IdName> list;
    for (;;) {
        const auto id = static_cast<std::uint32_t>(get_varint30(in, protocol));
        if (id == 0)
            break;
        if (list.size() >= kMaxIdListEntries)
            throw ProtocolError(ExitCode::Protocol, "id list has more than " +
                                                        std::to_string(kMaxIdListEntries) +
                                                        " entries");
        list.push_back(IdName{id, read_id_name(in)});
    }
    // With CF_ID0_NAMES the terminating zero is followed by the name of id 0.
    if (xmit_id0_names)
        list.push_back(IdName{0, read_id_name(in)});
    return list;
}

bool id_lists_sent(const FlistOptions& opts) noexcept
{
    return !opts.inc_recurse && opts.numeric_ids != NumericIds::Wire;
}

IdLists read_id_lists(ByteSource& in, const FlistOptions& opts)
{
    IdLists lists;
    if (!id_lists_sent(opts))
        return lists;
    if (opts.preserve_uid)
        lists.users = read_id_list(in, opts.protocol, opts.xmit_id0_names);
    if (opts.preserve_gid)
        lists.groups = read_id_list(in, opts.protocol, opts.xmit_id0_names);
    return lists;
}

} // namespace ocr::protocol
