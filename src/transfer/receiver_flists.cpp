// SPDX-License-Identifier: MIT
// The received lists of a push, and the sender's ids matched to local ones.
#include "transfer/receiver_flists.hpp"

#include "protocol/ndx.hpp"
#include "protocol/protocol_error.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace ocr::transfer {
namespace {

// Upstream uidlist.c:recv_add_gid: a non-root receiver can only give files the groups
// it is a member of; others are left alone (FLAG_SKIP_GROUP).
bool in_my_groups(gid_t gid)
{
    if (gid == ::getegid())
        return true;
    const int n = ::getgroups(0, nullptr);
    if (n <= 0)
        return false;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    const int got = ::getgroups(n, groups.data());
    return got > 0 && std::find(groups.begin(), groups.begin() + got, gid) != groups.begin() + got;
}

// getpwnam_r / getgrnam_r with a buffer that grows while the entry does not fit. Inside
// a chroot this is the module's own etc/passwd and etc/group, as for upstream.
template <typename Entry, typename Lookup, typename Id>
std::optional<std::uint32_t> id_of_name(const std::string& name, Lookup lookup, Id Entry::*id_field)
{
    std::vector<char> buf(1024);
    for (;;) {
        Entry entry{};
        Entry* found = nullptr;
        const int rc = lookup(name.c_str(), &entry, buf.data(), buf.size(), &found);
        if (rc == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 4);
            continue;
        }
        if (rc != 0 || !found)
            return std::nullopt;
        return static_cast<std::uint32_t>(found->*id_field);
    }
}

std::optional<std::uint32_t> local_user(const std::string& name)
{
    return id_of_name<passwd>(name, [](const char* n, passwd* e, char* b, std::size_t len, passwd** r) {
        return ::getpwnam_r(n, e, b, len, r);
    }, &passwd::pw_uid);
}

std::optional<std::uint32_t> local_group(const std::string& name)
{
    return id_of_name<group>(name, [](const char* n, group* e, char* b, std::size_t len, group** r) {
        return ::getgrnam_r(n, e, b, len, r);
    }, &group::gr_gid);
}

// Upstream flist.c:recv_file_list runs parse_name_map for each map it got.
std::optional<IdMap> parse_map(const std::optional<std::string>& spec, IdKind kind,
                               const std::function<void(const std::string&)>& report)
{
    if (!spec)
        return std::nullopt;
    IdMapParse parsed = IdMap::parse(*spec, kind, kind == IdKind::User ? IdNameLookup(local_user)
                                                                       : IdNameLookup(local_group));
    for (const std::string& m : parsed.messages)
        if (report)
            report(m + "\n");
    if (parsed.failure)
        throw protocol::ProtocolError(protocol::ExitCode::Syntax, parsed.failure->message,
                                      protocol::UpstreamSite{"uidlist.c", parsed.failure->upstream_line});
    return std::move(parsed.map);
}

// Upstream F_DEPTH of a received name: its number of components, "." counting as none.
int name_depth(std::string_view name)
{
    if (name == ".")
        return 0;
    return 1 + static_cast<int>(std::count(name.begin(), name.end(), '/'));
}

} // namespace

std::size_t prune_empty_dirs(protocol::DecodedList& list, const std::function<bool(std::string_view)>& dir_excluded)
{
    // Upstream flist.c:flist_clean chains the directories that may still be pruned through
    // their F_DEPTH slots; a stack of the same entries keeps the same order. A directory
    // drops as many chained entries as upstream's depth count says (prev_depth down to its
    // own depth), even where -R without implied dirs leaves gaps in the depths.
    if (list.entries.empty() || list.high < 0)
        return 0;
    std::vector<std::size_t> pending;
    std::size_t pruned = 0;
    int prev_depth = 0;
    auto prune = [&](std::size_t i) {
        list.entries[i].active = false;
        ++pruned;
    };
    const auto high = static_cast<std::size_t>(list.high);
    for (std::size_t i = list.low; i <= high && i < list.entries.size(); ++i) {
        const protocol::FileEntry& e = list.entries[i];
        const int depth = e.active && protocol::is_dir(e.mode) ? name_depth(e.name) : 0;
        if (depth == 0) {
            // Anything else (a file, the top ".", a dropped duplicate) keeps its parents.
            pending.clear();
            continue;
        }
        for (int j = prev_depth; j >= depth && !pending.empty(); --j) {
            prune(pending.back());
            pending.pop_back();
        }
        prev_depth = depth;
        if (dir_excluded && dir_excluded(e.name))
            pending.clear(); // an excluded directory stays, and so do those above it
        else
            pending.push_back(i);
    }
    for (const std::size_t i : pending)
        prune(i);
    while (list.low < list.entries.size() && !list.entries[list.low].active)
        ++list.low;
    return pruned;
}

ReceiverFileLists::ReceiverFileLists(const protocol::FlistOptions& opts, protocol::FlistDecoder::NameFilter filter,
                                     bool numeric_ids)
    : decoder_(opts, "Receiver", std::move(filter)), numeric_ids_(numeric_ids), preserve_uid_(opts.preserve_uid),
      preserve_gid_(opts.preserve_gid), xmit_id0_names_(opts.xmit_id0_names)
{
}

void ReceiverFileLists::set_id_maps(const std::optional<std::string>& usermap,
                                    const std::optional<std::string>& groupmap,
                                    const std::function<void(const std::string&)>& report)
{
    // Parsed outside the lock: the lookups may be slow, and no other thread runs yet.
    std::optional<IdMap> users = parse_map(usermap, IdKind::User, report);
    std::optional<IdMap> groups = parse_map(groupmap, IdKind::Group, report);
    std::lock_guard<std::mutex> lock(mutex_);
    usermap_ = std::move(users);
    groupmap_ = std::move(groups);
    // Upstream uidlist.c:parse_name_map: a sender that will not name id 0 is taken to
    // call it "root" (unless names are ignored), so a map can match it by that name.
    const std::string_view root_name = numeric_ids_ ? std::string_view() : std::string_view("root");
    if (!xmit_id0_names_) {
        if (usermap_)
            uids_[0] = resolve_uid(0, root_name);
        if (groupmap_)
            gids_[0] = resolve_gid(0, root_name);
    }
}

void ReceiverFileLists::set_prune_empty_dirs(std::function<bool(std::string_view)> dir_excluded)
{
    std::lock_guard<std::mutex> lock(mutex_);
    prune_excluded_ = dir_excluded ? std::move(dir_excluded) : [](std::string_view) { return false; };
}

void ReceiverFileLists::read_first(protocol::ByteSource& in)
{
    protocol::DecodedList first = decoder_.read_first_list(in);
    if (prune_excluded_)
        prune_empty_dirs(first, prune_excluded_);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const protocol::IdName& u : decoder_.id_lists().users)
            map_user(u.id, u.name);
        for (const protocol::IdName& g : decoder_.id_lists().groups)
            map_group(g.id, g.name);
    }
    publish(std::move(first));
}

void ReceiverFileLists::read_sublist(protocol::ByteSource& in, std::int32_t header, protocol::HeaderSite site)
{
    std::size_t dir_count = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        dir_count = dirs_.size();
    }
    const std::int32_t dir_ndx = protocol::dir_ndx_from_header(header, dir_count, "receiver", site);
    publish(decoder_.read_sublist(in, dir_ndx));
}

void ReceiverFileLists::publish(protocol::DecodedList list)
{
    std::lock_guard<std::mutex> lock(mutex_);
    for (const protocol::FileEntry& e : list.entries) {
        if (e.user_name)
            map_user(e.uid, *e.user_name);
        if (e.group_name)
            map_group(e.gid, *e.group_name);
    }
    const std::size_t li = lists_.size();
    // The decoder numbers directories in sorted order, list by list; keep the same table.
    for (std::size_t i = 0; i < list.entries.size(); ++i)
        if (protocol::is_dir(list.entries[i].mode) && decoder_.dir_count() > dirs_.size())
            dirs_.push_back(ListPos{li, i});
    total_ += static_cast<std::int64_t>(list.entries.size());
    io_error_ = decoder_.io_error();
    stats_ = decoder_.stats();
    lists_.push_back(std::make_unique<protocol::DecodedList>(std::move(list)));
}

void ReceiverFileLists::set_eof()
{
    std::lock_guard<std::mutex> lock(mutex_);
    eof_ = true;
}

std::size_t ReceiverFileLists::list_count() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return lists_.size();
}

const protocol::DecodedList& ReceiverFileLists::list(std::size_t i) const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return *lists_.at(i);
}

bool ReceiverFileLists::eof() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return eof_;
}

std::int64_t ReceiverFileLists::total_entries() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return total_;
}

std::optional<std::size_t> ReceiverFileLists::list_for_ndx(std::int32_t ndx) const
{
    std::lock_guard<std::mutex> lock(mutex_);
    // Lists cover increasing index ranges: find the last one starting at or below ndx + 1.
    const auto it = std::upper_bound(lists_.begin(), lists_.end(), static_cast<std::int64_t>(ndx) + 1,
                                     [](std::int64_t v, const std::unique_ptr<protocol::DecodedList>& l) {
                                         return v < l->ndx_start;
                                     });
    if (it == lists_.begin())
        return std::nullopt;
    const protocol::DecodedList& l = **(it - 1);
    if (static_cast<std::int64_t>(ndx) >= l.ndx_start + static_cast<std::int64_t>(l.entries.size()))
        return std::nullopt;
    return static_cast<std::size_t>(it - 1 - lists_.begin());
}

const protocol::FileEntry* ReceiverFileLists::entry_for_ndx(std::int32_t ndx) const
{
    const auto li = list_for_ndx(ndx);
    if (!li)
        return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    const protocol::DecodedList& l = *lists_[*li];
    if (ndx >= l.ndx_start)
        return &l.entries[static_cast<std::size_t>(ndx - l.ndx_start)];
    if (l.parent_dir_ndx < 0 || static_cast<std::size_t>(l.parent_dir_ndx) >= dirs_.size())
        return nullptr;
    const ListPos p = dirs_[static_cast<std::size_t>(l.parent_dir_ndx)];
    return &lists_[p.list]->entries[p.entry];
}

const protocol::FileEntry* ReceiverFileLists::dir_entry(std::int32_t dir_ndx) const
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (dir_ndx < 0 || static_cast<std::size_t>(dir_ndx) >= dirs_.size())
        return nullptr;
    const ListPos p = dirs_[static_cast<std::size_t>(dir_ndx)];
    return &lists_[p.list]->entries[p.entry];
}

std::int32_t ReceiverFileLists::last_ndx() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (lists_.empty())
        return -1;
    const protocol::DecodedList& l = *lists_.back();
    return l.ndx_start + static_cast<std::int32_t>(l.entries.size()) - 1;
}

std::uint32_t ReceiverFileLists::resolve_uid(std::uint32_t id, std::string_view name) const
{
    return resolve_received_id(usermap_ ? &*usermap_ : nullptr, id, name, local_user);
}

std::uint32_t ReceiverFileLists::resolve_gid(std::uint32_t id, std::string_view name) const
{
    return resolve_received_id(groupmap_ ? &*groupmap_ : nullptr, id, name, local_group);
}

// Upstream uidlist.c:recv_user_name: a name from the sender decides its id's mapping.
// A module with "numeric ids" (or --numeric-ids) throws the name away first.
void ReceiverFileLists::map_user(std::uint32_t id, const std::string& name)
{
    if (!preserve_uid_)
        return;
    uids_[id] = resolve_uid(id, numeric_ids_ ? std::string_view() : std::string_view(name));
}

void ReceiverFileLists::map_group(std::uint32_t id, const std::string& name)
{
    if (!preserve_gid_)
        return;
    gids_[id] = resolve_gid(id, numeric_ids_ ? std::string_view() : std::string_view(name));
}

std::uint32_t ReceiverFileLists::local_uid(std::uint32_t id) const
{
    std::lock_guard<std::mutex> lock(mutex_);
    // Upstream uidlist.c:recv_id_list / flist.c:recv_file_entry: with numeric ids only a
    // usermap changes owners.
    if (numeric_ids_ && !usermap_)
        return id;
    const auto it = uids_.find(id);
    if (it != uids_.end())
        return it->second;
    const std::uint32_t local = resolve_uid(id, {});
    uids_.emplace(id, local);
    return local;
}

std::optional<std::uint32_t> ReceiverFileLists::local_gid(std::uint32_t id) const
{
    std::uint32_t gid = id;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!numeric_ids_ || groupmap_) {
            const auto it = gids_.find(id);
            if (it != gids_.end()) {
                gid = it->second;
            } else {
                gid = resolve_gid(id, {});
                gids_.emplace(id, gid);
            }
        }
    }
    if (!keep_foreign_groups_ && ::geteuid() != 0 && !in_my_groups(static_cast<gid_t>(gid)))
        return std::nullopt;
    return gid;
}

int ReceiverFileLists::io_error() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return io_error_;
}

protocol::FlistStats ReceiverFileLists::stats() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

} // namespace ocr::transfer
