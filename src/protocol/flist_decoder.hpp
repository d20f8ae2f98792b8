// SPDX-License-Identifier: MIT
// The receiving side of the file list (upstream flist.c:recv_file_list, recv_file_entry,
// uidlist.c:recv_id_list), with every check 3.5.0 makes on what the sender sent.
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/exit_code.hpp"
#include "protocol/flist_entry.hpp"
#include "protocol/flist_options.hpp"
#include "protocol/id_list.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ocr::protocol {

/// @brief One received list, sorted and cleaned as upstream leaves it.
struct DecodedList {
    std::int32_t ndx_start = 0; ///< index of entries[0]
    /// Directory (index into the receiver's directory table) that this list fills in, or
    /// -1: a sub-list's announced directory, or for the first incremental list 0 when it
    /// starts with the "." directory (upstream flist->parent_ndx).
    std::int32_t parent_dir_ndx = -1;
    /// Sorted entries; entries[i] is index ndx_start + i. Dropped duplicates stay, with
    /// active == false.
    std::vector<FileEntry> entries;
    std::size_t low = 0;    ///< first active entry
    std::int64_t high = -1; ///< last active entry
};

/// @brief A directory the receiver knows of, in the order sub-lists number them
///        (upstream dir_flist).
struct DirRecord {
    std::string name;      ///< full name, as its own list ended up with it
    bool active = true;    ///< false when dropped as a duplicate
    bool got_list = false; ///< its sub-list has arrived
};

/// @brief Decodes the file lists of one session and validates them as upstream 3.5.0 does.
///
/// Errors are ProtocolError with upstream's text and exit code: unsafe names ("ABORTING
/// due to unsafe pathname from sender: NAME", code 4), bad modes, a non-directory ".",
/// out-of-range hard-link references, sub-list entries outside the announced directory
/// (CVE-2024-12087), duplicate or unknown sub-list directories, over-long names, negative
/// sizes, nanoseconds out of range. The end of the stream is ProtocolError(StreamIo).
class FlistDecoder {
public:
    /// @brief A receiver-side filter: return true to refuse a name ("ERROR: rejecting
    ///        excluded file-list name: NAME"); it is not asked about ".".
    using NameFilter = std::function<bool(std::string_view name, bool is_dir)>;

    /// @param opts the negotiated settings (copied).
    /// @param who the process name in upstream's error texts ("Receiver" before the fork,
    ///        "receiver" for sub-lists read during the transfer).
    /// @param filter optional; see NameFilter.
    explicit FlistDecoder(const FlistOptions& opts, std::string who = "Receiver",
                          NameFilter filter = {});

    /// @brief Reads the first list: entries up to the end marker, then for a
    ///        non-incremental transfer the id lists and, below protocol 30, the io_error int.
    DecodedList read_first_list(ByteSource& in);

    /// @brief Reads the sub-list of directory @p dir_ndx (the header index has been read and
    ///        turned into @p dir_ndx with dir_ndx_from_header).
    /// @throw ProtocolError(Protocol) for a directory that is unknown, was dropped as a
    ///        duplicate, or already had its list.
    DecodedList read_sublist(ByteSource& in, std::int32_t dir_ndx);

    /// @brief Directories recorded so far (the range a sub-list header may name).
    [[nodiscard]] std::size_t dir_count() const noexcept { return dirs_.size(); }
    /// @brief Directory @p i of the table (i < dir_count()).
    [[nodiscard]] const DirRecord& dir(std::size_t i) const { return dirs_.at(i); }
    /// @brief I/O error bits the sender reported so far (masked to the defined bits).
    [[nodiscard]] std::int32_t io_error() const noexcept { return io_error_; }
    /// @brief The id lists (non-incremental transfers; empty otherwise).
    [[nodiscard]] const IdLists& id_lists() const noexcept { return id_lists_; }
    /// @brief Running counters over every list received.
    [[nodiscard]] const FlistStats& stats() const noexcept { return stats_; }
    /// @brief Index the next list will start at.
    [[nodiscard]] std::int32_t next_ndx_start() const noexcept { return next_start_; }
    /// @brief Most entries one list may have (default 16 Mi); more is a ProtocolError(Malloc)
    ///        "[who] file list has grown too large to expand".
    void set_max_list_entries(std::size_t n) noexcept { max_entries_ = n; }

private:
    DecodedList read_list(ByteSource& in, std::int32_t dir_ndx);
    bool read_flags(ByteSource& in, std::uint32_t& xflags);
    FileEntry read_entry(ByteSource& in, std::uint32_t xflags, const std::vector<FileEntry>& list,
                         std::int32_t ndx_start);
    std::string read_name(ByteSource& in, std::uint32_t xflags, std::size_t& l1);
    /// Returns the symlink target length still to be read, or -1.
    std::int64_t read_attributes(ByteSource& in, std::uint32_t xflags, FileEntry& e);
    void copy_from_first(const FileEntry& first, FileEntry& e);
    void set_dir_flags(std::uint32_t xflags, std::size_t raw_len, std::size_t l1, FileEntry& e);
    void read_hard_link(ByteSource& in, std::uint32_t xflags, std::int32_t first_hlink,
                        std::int32_t own_ndx, FileEntry& e);
    void check_hard_link_groups(const std::vector<FileEntry>& list, std::int32_t ndx_start);
    [[noreturn]] static void fail(ExitCode code, const std::string& text);

    FlistOptions opts_;
    std::string who_;
    NameFilter filter_;
    std::size_t max_entries_ = std::size_t{1} << 24;
    bool first_done_ = false;
    std::int32_t next_start_ = 0;
    std::int32_t io_error_ = 0;
    IdLists id_lists_;
    FlistStats stats_;
    std::vector<DirRecord> dirs_;

    // "Previous entry" state (upstream recv_file_entry statics).
    std::string lastname_; ///< raw name as received, before cleaning
    std::uint32_t mode_ = 0;
    std::int64_t mtime_ = 0;
    std::int64_t atime_ = 0;
    std::int64_t crtime_ = 0;
    std::uint32_t uid_ = 0;
    std::uint32_t gid_ = 0;
    std::uint32_t rdev_major_ = 0;
    std::uint32_t rdev_minor_ = 0;
    std::int64_t dev_ = 0; ///< protocol < 30 hard links, as sent (dev + 1)
    // Protocol < 30 -c and the delete hierarchy (upstream in_del_hier).
    bool in_del_hier_ = false;
    std::size_t del_hier_name_len_ = 0;
    // Hard-link groups: below protocol 30 a counter per (dev, ino); from 30 with
    // incremental recursion the groups declared by earlier lists.
    std::map<std::pair<std::int64_t, std::int64_t>, std::int32_t> old_groups_;
    std::int32_t next_group_ = 0;
    std::unordered_set<std::int32_t> prior_groups_;
};

} // namespace ocr::protocol
