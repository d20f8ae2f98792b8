// SPDX-License-Identifier: MIT
// Deletion on a push's receiving side: entries in the way, and --delete* of what the sender lacks.
#pragma once

#include "protocol/flist_entry.hpp"
#include "transfer/backup.hpp"
#include "transfer/module_writer.hpp"
#include "transfer/reporter.hpp"

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace ocr::transfer {

/// Upstream DEL_* flags (rsync.h).
namespace del_flag {
inline constexpr unsigned kRecurse = 1u << 1;    ///< DEL_RECURSE
inline constexpr unsigned kNoUidWrite = 1u << 2; ///< DEL_NO_UID_WRITE: chmod u+w first
inline constexpr unsigned kDirIsEmpty = 1u << 3; ///< DEL_DIR_IS_EMPTY: contents already handled
inline constexpr unsigned kForFile = 1u << 4;    ///< DEL_FOR_FILE: making room for a file
inline constexpr unsigned kForDir = 1u << 5;     ///< DEL_FOR_DIR
inline constexpr unsigned kForSymlink = 1u << 6; ///< DEL_FOR_SYMLINK
inline constexpr unsigned kForDevice = 1u << 7;  ///< DEL_FOR_DEVICE
inline constexpr unsigned kForSpecial = 1u << 8; ///< DEL_FOR_SPECIAL
inline constexpr unsigned kForBackup = 1u << 9;  ///< DEL_FOR_BACKUP: making room for a backup
inline constexpr unsigned kMakeRoom = kForFile | kForDir | kForSymlink | kForDevice | kForSpecial;
} // namespace del_flag

/// @brief upstream delete.c:get_del_for_flag: the DEL_FOR_* flag for a new entry of @p mode.
[[nodiscard]] unsigned del_for_flag(std::uint32_t mode) noexcept;

/// @brief upstream enum delret.
enum class DelResult { Success, Failure, NotEmpty, AtLimit };

/// @brief What was deleted (upstream stats.deleted_*; files counts every kind).
struct DeleteStats {
    std::int64_t files = 0;
    std::int64_t dirs = 0;
    std::int64_t symlinks = 0;
    std::int64_t devices = 0;
    std::int64_t specials = 0;
    /// The regular-file count as write_del_stats sends it.
    [[nodiscard]] std::int64_t regular() const noexcept { return files - dirs - symlinks - devices - specials; }
};

/// @brief When --delete* deletes (the receiving side's delete_before / delete_during /
///        delete_after after option parsing).
struct DeleteTiming {
    bool before = false;
    int during = 0; ///< 1 --delete-during, 2 --delete-delay
    bool after = false;
    /// upstream EARLY_DELETE_DONE_MSG(): the phase-end NDX_DONE need not wait for deletions.
    [[nodiscard]] bool early_done() const noexcept { return !(during == 2 || after); }
    [[nodiscard]] bool any() const noexcept { return before || during != 0 || after; }
};

/// @brief The session settings deletion depends on.
struct DeleterSettings {
    /// Module-relative directory the transfer's names are relative to ("" = module root).
    std::string base;
    int protocol = 32;         ///< the sort order of a listed directory depends on it
    bool dry_run = false;      ///< report, change nothing (upstream's syscall wrappers)
    bool am_root = false;      ///< no DEL_NO_UID_WRITE chmod when root (or fake super)
    int max_delete = -1;       ///< < 0: no limit (upstream INT_MIN); 0: delete nothing
    bool ignore_errors = false; ///< --ignore-errors or the module's "ignore errors"
    bool inc_recurse = false;  ///< the delete-delay fallback is --delete-after only without it
    DeleteTiming timing;
    /// Bound of the remembered --delete-delay names (upstream spills them to a temp file;
    /// past this we fall back as upstream does when that file cannot be made).
    std::size_t max_delay_bytes = std::size_t{64} << 20;
    /// Entries listed per directory before giving up on it (a bound on memory).
    std::size_t max_dir_entries = std::size_t{1} << 22;
};

/// @brief The names of one received file list (or of all of them), for delete_in_dir's
///        "does the sender have this name" test (upstream flist_find_ignore_dirness).
class ListNames {
public:
    ListNames() = default;
    /// @brief Adds the active entries' names; @p entries must outlive this object.
    void add(const std::vector<protocol::FileEntry>& entries);
    /// @brief Whether the sender has @p name (relative to the transfer root), of any type.
    [[nodiscard]] bool contains(std::string_view name) const { return names_.count(name) != 0; }
    /// @brief How many names were added.
    [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }

private:
    std::unordered_set<std::string_view> names_;
};

/// @brief Deletes beneath the module root as upstream's receiving generator does.
///
/// Names are relative to the transfer root (settings.base), "." being the root itself.
/// Not thread-safe: the generator thread owns it.
class Deleter {
public:
    struct Hooks {
        /// upstream log.c:log_delete for a deleted name (MSG_DELETED / "deleting NAME").
        std::function<void(std::string_view name, std::uint32_t mode)> deleted;
        /// A message for the client and the log (upstream rprintf).
        std::function<void(LogCode, std::string)> message;
        /// upstream rsyserr(code, err, text).
        std::function<void(LogCode, int, std::string)> syserr;
        /// upstream full_fname() of a name.
        std::function<std::string(std::string_view)> full_fname;
        /// The session's io_error bits now (deletion stops after an I/O error).
        std::function<int()> io_error;
        std::function<void(int)> add_io_error;
        /// upstream name_is_excluded(ALL_FILTERS) for a name found on disk: the module's
        /// rules and the client's receiver-side rules (protect, excludes without
        /// --delete-excluded); @p ignore_perishable while a directory is being emptied.
        std::function<bool(std::string_view name, bool is_dir, bool ignore_perishable)> excluded;
        /// Called while a long deletion runs (upstream maybe_send_keepalive).
        std::function<void()> keepalive;
    };

    /// @param writer does every filesystem change (must outlive this object).
    /// @param settings the session's deletion settings.
    /// @param hooks reporting and filtering (empty hooks: silent, nothing excluded).
    /// @param backup makes the backups of deleted files with -b (nullptr: no backups).
    Deleter(const ModuleWriter& writer, DeleterSettings settings, Hooks hooks, BackupMaker* backup = nullptr);

    /// @brief upstream delete.c:delete_item.
    /// @param name the entry, relative to the transfer root.
    /// @param mode its st_mode as found (a directory is emptied first with kRecurse).
    /// @param flags del_flag bits.
    DelResult delete_item(const std::string& name, std::uint32_t mode, unsigned flags);

    /// @brief Makes room for a new entry of @p new_mode where @p st is (upstream delete_item
    ///        with DEL_FOR_*; recursive when any --delete or --force is on).
    /// @return true when the name is free now.
    bool make_room(const std::string& name, const struct stat& st, std::uint32_t new_mode, bool recurse);

    /// @brief upstream generator.c:delete_in_dir: deletes what is in @p dir but not in @p wanted
    ///        (now, or remembered for later with --delete-delay).
    void delete_in_dir(const std::string& dir, const ListNames& wanted);
    /// @brief upstream do_delete_pass (--delete-before / --delete-after) over a whole list.
    void delete_pass(const std::vector<protocol::FileEntry>& sorted, const ListNames& wanted);
    /// @brief upstream do_delayed_deletions (--delete-delay).
    void delayed_deletions();
    /// @brief The --max-delete warning at the end of the generator (adds IOERR_DEL_LIMIT).
    void report_limit();

    /// @brief The timing now (--delete-delay may fall back to --delete-after).
    [[nodiscard]] const DeleteTiming& timing() const noexcept { return s_.timing; }
    /// @brief What was deleted so far (upstream stats.deleted_*).
    [[nodiscard]] const DeleteStats& stats() const noexcept { return stats_; }
    /// @brief Deletions the --max-delete limit refused (upstream skipped_deletes).
    [[nodiscard]] int skipped() const noexcept { return skipped_; }

private:
    struct Listed {
        std::string name; ///< the basename
        struct stat st;
    };
    struct Delayed {
        std::uint32_t mode;
        unsigned flags;
        std::string name;
    };

    [[nodiscard]] std::string local(std::string_view name) const;
    [[nodiscard]] std::string child(const std::string& dir, const std::string& base) const;
    /// upstream get_dirlist of one directory with the filters applied; false after an error.
    bool list_dir(const std::string& dir, std::vector<Listed>& out, bool ignore_perishable, int& kept);
    DelResult delete_dir_contents(const std::string& dir, unsigned flags, int depth);
    bool no_uid_write(const struct stat& st) const noexcept;
    bool remember(std::uint32_t mode, const std::string& name, unsigned flags);
    void say(LogCode code, std::string text) const;
    void sys(LogCode code, int err, std::string text) const;
    [[nodiscard]] std::string full(std::string_view name) const;

    const ModuleWriter& w_;
    DeleterSettings s_;
    Hooks h_;
    BackupMaker* backup_;
    DeleteStats stats_;
    int skipped_ = 0;
    bool warned_io_error_ = false;
    std::vector<Delayed> delayed_;
    std::size_t delayed_bytes_ = 0;
};

} // namespace ocr::transfer
