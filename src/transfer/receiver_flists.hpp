// SPDX-License-Identifier: MIT
// The file lists a push receives, shared by its generator and receiver threads
// (upstream flist.c:recv_file_list, recv_additional_file_list, rsync.c:flist_for_ndx,
// uidlist.c:recv_id_list's name matching).
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/flist_decoder.hpp"
#include "protocol/ndx.hpp"
#include "transfer/id_map.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::transfer {

/// @brief Where an index points: a list and an entry of it.
struct ListPos {
    std::size_t list = 0;   ///< position in arrival order
    std::size_t entry = 0;  ///< index into that list's entries
};

/// @brief Upstream flist.c:flist_clean's --prune-empty-dirs pass on a receiver's sorted
///        list: directories with nothing but other such directories below them become
///        inactive, unless the filter rules exclude them (an excluded directory, and every
///        directory above it, is kept). Entries that are inactive already count as
///        content, as upstream's cleared duplicates do.
/// @param list a sorted, cleaned list (the whole transfer: pruning turns incremental
///        lists off).
/// @param dir_excluded upstream is_excluded(name, dir, ALL_FILTERS) for a directory.
/// @return how many directories were pruned.
std::size_t prune_empty_dirs(protocol::DecodedList& list, const std::function<bool(std::string_view)>& dir_excluded);

/// @brief The received lists, appended by the thread that reads the socket and read by both.
///
/// Lists are never moved once published, so a reference from list() stays valid for the
/// object's life; every call locks. Entries are not changed after publication.
class ReceiverFileLists {
public:
    /// @param opts the negotiated list options.
    /// @param filter refuses names the daemon excludes (may be empty).
    /// @param numeric_ids ids are kept as numbers (no name matching).
    ReceiverFileLists(const protocol::FlistOptions& opts, protocol::FlistDecoder::NameFilter filter,
                      bool numeric_ids);

    /// @brief Takes the client's --usermap/--groupmap (--chown arrives as these) as upstream
    ///        flist.c:recv_file_list parses them, before the first list: each unknown
    ///        local name goes to @p report as an FERROR line (with its newline).
    ///        Call at most once, before read_first().
    /// @param usermap the --usermap value, if any.
    /// @param groupmap the --groupmap value, if any.
    /// @param report receives upstream's non-fatal messages, in its order.
    /// @throw ProtocolError(Syntax) with upstream's text and uidlist.c site for a
    ///        malformed map (after reporting the messages that came before it).
    void set_id_maps(const std::optional<std::string>& usermap, const std::optional<std::string>& groupmap,
                     const std::function<void(const std::string&)>& report);

    /// @brief Prunes empty directories from the first list (upstream -m on a receiver).
    ///        Call before read_first().
    /// @param dir_excluded see prune_empty_dirs().
    void set_prune_empty_dirs(std::function<bool(std::string_view)> dir_excluded);

    /// @brief Under "fake super" (upstream am_root = -1) a group the daemon's user is not in
    ///        is kept too: it goes into the entry's record (uidlist.c:recv_add_id tests
    ///        !am_root). Call before the threads start.
    void set_keep_foreign_groups(bool on) noexcept { keep_foreign_groups_ = on; }

    /// @brief Reads the first list (with its id lists when not incremental).
    /// @throw ProtocolError as FlistDecoder does.
    void read_first(protocol::ByteSource& in);
    /// @brief Reads the sub-list announced by @p header (a value below NDX_FLIST_EOF).
    /// @throw ProtocolError for a bad header or list.
    /// @param site where the header was read (upstream words the range error per site).
    void read_sublist(protocol::ByteSource& in, std::int32_t header,
                      protocol::HeaderSite site = protocol::HeaderSite::Transfer);
    void set_eof();

    [[nodiscard]] std::size_t list_count() const;
    [[nodiscard]] const protocol::DecodedList& list(std::size_t i) const;
    [[nodiscard]] bool eof() const;
    /// @brief Entries received so far over all lists (upstream file_total, never lowered).
    [[nodiscard]] std::int64_t total_entries() const;

    /// @brief The list holding @p ndx, counting a list's parent-directory slot
    ///        (ndx_start - 1) as its own (flist_for_ndx); nullopt when no list has it.
    [[nodiscard]] std::optional<std::size_t> list_for_ndx(std::int32_t ndx) const;
    /// @brief The entry of file @p ndx: a list entry, or for a list's parent slot the
    ///        directory's own entry; nullptr when there is none.
    [[nodiscard]] const protocol::FileEntry* entry_for_ndx(std::int32_t ndx) const;
    /// @brief Directory @p dir_ndx of the directory table (upstream dir_flist), or nullptr.
    [[nodiscard]] const protocol::FileEntry* dir_entry(std::int32_t dir_ndx) const;
    /// @brief The last index of the newest list (for upstream's "(-1 - N)" error range).
    [[nodiscard]] std::int32_t last_ndx() const;

    /// @brief The local uid for the sender's @p id (upstream uidlist.c:match_uid): the
    ///        usermap's choice, else the local id of the sender's name for it (unless ids
    ///        are numeric), else @p id.
    [[nodiscard]] std::uint32_t local_uid(std::uint32_t id) const;
    /// @brief The local gid for the sender's @p id (upstream match_gid), chosen like
    ///        local_uid(); nullopt when a non-root receiver is not a member of that group
    ///        (upstream FLAG_SKIP_GROUP: the group is left alone).
    [[nodiscard]] std::optional<std::uint32_t> local_gid(std::uint32_t id) const;

    /// @brief I/O error bits the sender reported in its lists.
    [[nodiscard]] int io_error() const;
    /// @brief Totals over every list (upstream stats.total_size and counts).
    [[nodiscard]] protocol::FlistStats stats() const;

private:
    void publish(protocol::DecodedList list);
    void map_user(std::uint32_t id, const std::string& name);
    void map_group(std::uint32_t id, const std::string& name);
    [[nodiscard]] std::uint32_t resolve_uid(std::uint32_t id, std::string_view name) const;
    [[nodiscard]] std::uint32_t resolve_gid(std::uint32_t id, std::string_view name) const;

    mutable std::mutex mutex_;
    protocol::FlistDecoder decoder_;
    bool numeric_ids_;
    bool keep_foreign_groups_ = false;
    bool preserve_uid_;
    bool preserve_gid_;
    bool xmit_id0_names_;
    std::function<bool(std::string_view)> prune_excluded_; ///< set: -m prunes the first list
    std::optional<IdMap> usermap_;
    std::optional<IdMap> groupmap_;
    std::vector<std::unique_ptr<protocol::DecodedList>> lists_;
    std::vector<ListPos> dirs_;
    bool eof_ = false;
    int io_error_ = 0;
    protocol::FlistStats stats_;
    std::int64_t total_ = 0;
    // Sender id -> local id, decided once per id (upstream's uidlist/gidlist); ids that
    // come without a name are added on first use.
    mutable std::map<std::uint32_t, std::uint32_t> uids_;
    mutable std::map<std::uint32_t, std::uint32_t> gids_;
};

} // namespace ocr::transfer
