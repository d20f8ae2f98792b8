// SPDX-License-Identifier: MIT
// The sender's file lists: walking the module (confined) from the client's path
// arguments, sending the entries, and the incremental recursion that keeps sending
// sub-lists while files are transferred.
#pragma once

#include "protocol/flist_encoder.hpp"
#include "protocol/ndx.hpp"
#include "transfer/chmod_rules.hpp"
#include "transfer/connection.hpp"
#include "transfer/filter_set.hpp"
#include "transfer/module_fs.hpp"
#include "transfer/reporter.hpp"
#include "transfer/transfer_options.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ocr::transfer {

/// @brief One entry the sender sent, with what it needs to find the file again.
struct SentFile {
    protocol::FileEntry entry;     ///< as sent; entry.name is relative to the transfer root
    std::uint32_t pathname = 0;    ///< index of the module-relative directory the name is in
    std::uint64_t dev = 0;         ///< st_dev (for -x)
    bool mount_dir = false;        ///< a directory on another filesystem (-x): not descended
    bool sent = false;             ///< its data went out once (upstream FLAG_FILE_SENT)
};

/// @brief Builds and sends the file lists of one pull.
class SenderFileLists {
public:
    struct Services {
        ModuleFs& fs;
        FilterSet& filters;
        Reporter& report;
        Connection& conn;
        protocol::NdxEncoder& ndx_out;   ///< shared with the rest of the outgoing stream
        /// The -c checksum of a regular file (module-relative path), or nullopt if unreadable.
        std::function<std::optional<std::string>(const std::string&)> file_checksum;
        /// uid/gid to name, for the id lists and inline names.
        protocol::IdNameLookup user_name;
        protocol::IdNameLookup group_name;
        /// Whether the module chrooted (changes upstream's file name display).
        bool chrooted = false;
        std::string module_name;
    };

    SenderFileLists(const SenderOptions& options, Services services, const ChmodRules* chmod);

    /// @brief Builds and sends the first list from the path arguments (upstream
    ///        flist.c:send_file_list), including the end marker and trailers.
    /// @return the number of entries in it.
    std::int32_t send_first_list();

    /// @brief With incremental recursion, sends sub-lists until @p at_least entries are
    ///        announced beyond what the client has retired (upstream send_extra_file_list);
    ///        a negative value means "one more entry than now".
    void send_extra_lists(int at_least);

    /// @brief No more sub-lists will follow (upstream flist_eof).
    [[nodiscard]] bool eof() const noexcept { return eof_; }
    /// @brief Entries announced beyond what the client has retired (upstream
    ///        file_total - file_old_total).
    [[nodiscard]] std::int64_t in_flight() const noexcept { return file_total_ - file_old_total_; }

    /// @brief The entry with global index @p ndx in a live list, or nullptr. With
    ///        incremental recursion an index just below a list's start names the list's
    ///        parent directory (upstream cur_flist->parent_ndx).
    [[nodiscard]] SentFile* find(std::int32_t ndx);
    /// @brief Whether @p ndx is in a list the client may still refer to.
    [[nodiscard]] bool valid(std::int32_t ndx) const;

    /// @brief The client finished with the oldest list (an NDX_DONE while recursing
    ///        incrementally). @return false when no list was left to retire.
    bool retire_oldest();
    /// @brief Live lists right now.
    [[nodiscard]] std::size_t live_lists() const noexcept { return lists_.size(); }

    /// @brief The module-relative path of @p f (its pathname joined with its name).
    [[nodiscard]] std::string local_path(const SentFile& f) const;
    /// @brief The pathname part alone (module-relative, "" for the module root).
    [[nodiscard]] const std::string& pathname_of(const SentFile& f) const { return pathnames_[f.pathname]; }
    /// @brief Upstream full_fname(): the quoted name for messages, with "(in MODULE)".
    [[nodiscard]] std::string full_fname(const std::string& name) const;
    /// @brief full_fname() of a sent entry, from its own directory.
    [[nodiscard]] std::string full_fname_of(const SentFile& f) const;

    [[nodiscard]] const protocol::FlistStats& stats() const noexcept { return encoder_.stats(); }
    [[nodiscard]] std::int64_t build_time_ms() const noexcept { return build_ms_; }
    [[nodiscard]] std::int64_t xfer_time_ms() const noexcept { return xfer_ms_; }

private:
    enum class FilterLevel { None, Server, All };
    enum class NameType { Normal, Slash, DotDir, Missing };

    struct FileList {
        std::int32_t start = 0;
        std::int32_t parent_dir = -1;   ///< index into dirs_ of the directory listed; -1 first list
        std::vector<SentFile> files;    ///< sorted once complete
    };
    struct DirNode {
        SentFile dir;
        std::int32_t parent = -1;
        std::int32_t first_child = -1;
        std::int32_t next_sibling = -1;
        /// -R with incremental recursion: names to send when this directory's list goes out.
        std::vector<std::pair<NameType, std::string>> relnames;
    };
    // Flags of make_file / send_file_name (upstream FLAG_*).
    struct Flags {
        bool top_dir = false;
        bool content_dir = false;
        bool implied_dir = false;
        bool divert_dirs = false;
        bool perhaps_dir = false;
    };

    SentFile* send_file_name(const std::string& fname, const struct stat* stp, Flags flags, FilterLevel level);
    std::optional<SentFile> make_file(const std::string& fname, const struct stat* stp, Flags flags, FilterLevel level);
    void send_directory(const std::string& dir, Flags flags);
    void send_if_directory(std::size_t index, Flags flags);
    /// @param start Where the names to send begin in @p fname: 0 for a source argument,
    ///        the relative part for a name waiting in a directory's relnames.
    void send_implied_dirs(const std::string& fname, std::size_t start, std::size_t limit, Flags flags,
                           NameType type);
    void send1extra(std::int32_t dir_ndx);
    void process_argument(std::string fbuf, Flags flags, bool& implied_dot_dir_pending);
    void finish_list(bool first);
    void send_io_error_message(int io_error, bool ahead);
    void add_dirs_to_tree(std::int32_t parent, FileList& list);
    void change_pathname(const std::string& dir);
    void change_local_filter_dir(const std::string& dir, int depth);
    void clear_local_filter_dirs();
    void flush_out();
    bool is_excluded(const std::string& name, bool is_dir, FilterLevel level) const;
    int link_stat(const std::string& name, struct stat& st, bool follow_dirlinks) const;
    [[nodiscard]] std::string_view stat_anchor() const;
    [[nodiscard]] std::string stat_anchor_for(const std::string& name) const;
    [[nodiscard]] std::string full_fname_in(const std::string& base, const std::string& name) const;
    [[nodiscard]] std::string join(const std::string& name) const;
    std::uint32_t intern_pathname(const std::string& p);
    std::optional<std::string> read_files_from_name();

    const SenderOptions& opt_;
    Services s_;
    const ChmodRules* chmod_;
    protocol::FlistEncoder encoder_;
    std::string out_;

    std::vector<std::string> pathnames_;
    /// Index into pathnames_ by value: --files-from can name a directory per line.
    std::unordered_map<std::string, std::uint32_t> pathname_index_;
    std::optional<std::string> scan_dir_; ///< the directory being read, with its '/' ("" for ".")
    int scan_fd_ = -1;                    ///< its open handle while it is read (not owned)
    std::string base_dir_;              ///< --files-from: the directory names are relative to
    std::size_t files_from_pos_ = 0;    ///< --files-from=FILE: how far its content is read
    std::uint32_t cur_pathname_ = 0;
    std::uint64_t filesystem_dev_ = 0;

    std::optional<FileList> building_;
    std::deque<FileList> lists_;
    std::vector<DirNode> dirs_;
    std::int32_t send_dir_ndx_ = -1;
    int send_dir_depth_ = -1;
    bool eof_ = false;
    std::int64_t file_total_ = 0;
    std::int64_t file_old_total_ = 0;
    std::vector<bool> filter_depths_;   ///< which depths pushed a local filter dir
    bool hold_out_ = false; ///< a batch of sub-lists is being built: out_ is not flushed
    int io_error_at_list_start_ = 0; ///< io_error when the current batch of sub-lists began

    // While sending implied directories upstream turns on copy_links and xfer_dirs.
    bool force_copy_links_ = false;
    bool force_xfer_dirs_ = false;

    // -R bookkeeping (upstream send_implied_dirs statics).
    std::vector<std::pair<std::int32_t, std::pair<NameType, std::string>>> pending_relnames_;
    std::map<std::int32_t, std::vector<std::pair<NameType, std::string>>> relnames_by_sorted_;
    bool implied_dot_sent_ = false;
    std::string lastpath_;
    std::int32_t lastpath_dir_ = -1;    ///< building_ index of the last implied dir (inc recursion)
    std::uint32_t lastpath_pathname_ = 0;

    std::int64_t build_ms_ = 0;
    std::int64_t xfer_ms_ = 0;
};

/// @brief A --files-from name as upstream's send_file_list sanitizes it.
[[nodiscard]] std::string sanitize_files_from_name(std::string_view name, bool relative_paths);

/// @brief Upstream util1.c:unsafe_symlink: does @p target, stored in a link at @p link_path
///        (relative to the transfer root), point outside the tree?
[[nodiscard]] bool unsafe_symlink(std::string_view target, std::string_view link_path);

} // namespace ocr::transfer
