// SPDX-License-Identifier: MIT
// The sending side of the file list (upstream flist.c:send_file_entry, write_end_of_flist,
// the list framing of send_file_list/send_extra_file_list, uidlist.c:send_id_lists).
#pragma once

#include "protocol/flist_entry.hpp"
#include "protocol/flist_options.hpp"
#include "protocol/id_list.hpp"
#include "protocol/ndx.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace ocr::protocol {

/// @brief Encodes the file lists of one session, byte for byte as upstream 3.5.0 does.
///
/// The encoder keeps the state upstream keeps in statics: the previous entry's name,
/// mode, times, ids and rdev (for the SAME_* flags), the ids seen (for the id lists and
/// inline names) and the hard-link table. Use one encoder per session, for the first list
/// and every incremental sub-list. It does no I/O: bytes are appended to a string.
///
/// A list goes: begin_list(), put_entry() for each entry in the order they are sent,
/// end_list(); after the first list of a non-incremental transfer also
/// put_first_list_trailer(). With incremental recursion each further list starts with
/// begin_sublist() (its header index goes through the stream's NdxEncoder, whose state it
/// shares with the transfer's indexes) and put_flist_eof() ends the recursion.
class FlistEncoder {
public:
    /// @param opts the negotiated settings (copied).
    /// @param user_names uid to name lookup (unused with numeric ids).
    /// @param group_names gid to name lookup.
    FlistEncoder(const FlistOptions& opts, IdNameLookup user_names, IdNameLookup group_names);

    /// @brief Starts the next list.
    /// @return its first index: 0 for the only list of a plain transfer, 1 for the first
    ///         incremental list, then the previous start plus its count plus one (upstream
    ///         flist.c:flist_new).
    /// @throw std::logic_error if the previous list was not ended.
    std::int32_t begin_list();

    /// @brief Writes a sub-list header (flist_header_ndx(@p dir_ndx)) with the stream's index
    ///        encoder, then begins the list.
    /// @param dir_ndx the directory's position in the sender's directory table: every list's
    ///        directories, in that list's sorted order ("." included), appended list by list
    ///        (upstream flist.c:add_dirs_to_tree).
    /// @return the new list's first index.
    std::int32_t begin_sublist(std::string& out, NdxEncoder& ndx, std::int32_t dir_ndx);

    /// @brief Ends the incremental recursion: NDX_FLIST_EOF with the stream's index encoder.
    static void put_flist_eof(std::string& out, NdxEncoder& ndx);

    /// @brief Appends one entry. Its index is begin_list()'s value plus the number of
    ///        entries already put in this list (send order, not sorted order).
    /// @throw std::invalid_argument for an entry the wire cannot carry: an empty name or one
    ///        of kMaxPathLen bytes or more, an empty or over-long symlink target with -l, or a
    ///        -c sum of the wrong length.
    /// @throw std::logic_error outside begin_list()/end_list().
    void put_entry(std::string& out, const FileEntry& entry);

    /// @brief Appends the end-of-list marker.
    /// @param io_error the I/O error bits to report with this list (0 when none; for a
    ///        sub-list, upstream reports only errors that happened while building it).
    /// @return true if the error (if any) travelled in the marker; false if it could not
    ///         (a peer without safe file lists): protocol 30 then sends MSG_IO_ERROR, and
    ///         below 30 the first list's trailer carries it.
    bool end_list(std::string& out, std::int32_t io_error);

    /// @brief After the first list of a non-incremental transfer: the uid/gid lists (unless
    ///        --numeric-ids) and, below protocol 30, the io_error int32.
    void put_first_list_trailer(std::string& out, std::int32_t io_error);

    /// @brief Entries put in the current (or last) list so far.
    [[nodiscard]] std::int32_t list_count() const noexcept { return count_; }
    /// @brief First index of the current (or last) list.
    [[nodiscard]] std::int32_t list_start() const noexcept { return start_; }
    /// @brief Running counters over every list.
    [[nodiscard]] const FlistStats& stats() const noexcept { return stats_; }

private:
    std::uint32_t entry_flags(const FileEntry& e, bool& tracked, std::int32_t& first_hlink);
    void put_flags(std::string& out, std::uint32_t& xflags, bool dir) const;
    void put_rdev(std::string& out, std::uint32_t xflags) const;

    FlistOptions opts_;
    IdRegistry users_;
    IdRegistry groups_;
    FlistStats stats_;
    bool in_list_ = false;
    bool any_list_ = false;
    std::int32_t start_ = 0;
    std::int32_t count_ = 0;

    // "Previous entry" state (upstream send_file_entry statics).
    std::string lastname_;
    std::uint32_t mode_ = 0;
    std::int64_t mtime_ = 0;
    std::int64_t atime_ = 0;
    std::int64_t crtime_ = 0;
    std::uint32_t uid_ = 0;
    std::uint32_t gid_ = 0;
    std::uint32_t rdev_major_ = 0; ///< rdev of the last device (or special) entry
    std::uint32_t rdev_minor_ = 0;
    std::uint32_t last_major_ = 0; ///< the major SAME_RDEV_MAJOR refers to (protocol 28+)
    std::int64_t dev_ = 0;         ///< hard links below protocol 30
    std::optional<std::string> user_name_;
    std::optional<std::string> group_name_;
    /// Protocol 30+ hard links: (dev, ino) -> index of the first entry sent for it.
    std::map<std::pair<std::int64_t, std::int64_t>, std::int32_t> first_links_;
};

} // namespace ocr::protocol
