// SPDX-License-Identifier: MIT
// The file lists a push receives, shared by its generator and receiver threads
// (upstream flist.c:recv_file_list, recv_additional_file_list, rsync.c:flist_for_ndx,
// uidlist.c:recv_id_list's name matching).
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/flist_decoder.hpp"
#include "protocol/ndx.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ocr::transfer {

/// @brief Where an index points: a list and an entry of it.
struct ListPos {
    std::size_t list = 0;   ///< position in arrival order
    std::size_t entry = 0;  ///< index into that list's entries
};

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

    /// @brief The local uid / gid for the sender's @p id (names matched unless numeric).
    [[nodiscard]] std::uint32_t local_uid(std::uint32_t id) const;
    [[nodiscard]] std::optional<std::uint32_t> local_gid(std::uint32_t id) const;

    /// @brief I/O error bits the sender reported in its lists.
    [[nodiscard]] int io_error() const;
    /// @brief Totals over every list (upstream stats.total_size and counts).
    [[nodiscard]] protocol::FlistStats stats() const;

private:
    void publish(protocol::DecodedList list);
    void map_user(std::uint32_t id, const std::string& name);
    void map_group(std::uint32_t id, const std::string& name);

    mutable std::mutex mutex_;
    protocol::FlistDecoder decoder_;
    bool numeric_ids_;
    bool preserve_uid_;
    bool preserve_gid_;
    std::vector<std::unique_ptr<protocol::DecodedList>> lists_;
    std::vector<ListPos> dirs_;
    bool eof_ = false;
    int io_error_ = 0;
    protocol::FlistStats stats_;
    std::int64_t total_ = 0;
    std::map<std::uint32_t, std::uint32_t> uids_;
    std::map<std::uint32_t, std::optional<std::uint32_t>> gids_;
};

} // namespace ocr::transfer
