// SPDX-License-Identifier: MIT
// Backups a push makes of what it replaces or deletes (-b, --backup-dir, --suffix).
#pragma once

#include "transfer/module_writer.hpp"
#include "transfer/push_attrs.hpp"
#include "transfer/reporter.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief How backups are made in one session.
struct BackupSettings {
    /// Module-relative directory the transfer's names are relative to ("" = module root).
    std::string base;
    /// Module-relative --backup-dir without a trailing slash; empty: back up next to the file.
    std::string dir;
    /// The --backup-dir as upstream shows it in messages (backup_dir_buf's prefix, ending in '/').
    std::string dir_shown;
    /// The --suffix ("~" by default, "" by default with --backup-dir). Never contains '/'.
    std::string suffix = "~";
    bool dry_run = false;
    bool preserve_links = false;
    bool safe_links = false;
    bool preserve_devices = false;
    bool preserve_specials = false;
    int info_backup = 0;  ///< INFO_GTE(BACKUP, n)
    int info_symsafe = 0; ///< INFO_GTE(SYMSAFE, n)
    int info_nonreg = 0;  ///< INFO_GTE(NONREG, n)
    /// What set_file_attrs applies to a copied backup or a new backup directory.
    AttrSettings attrs;
    /// The session's protocol: below 31 upstream's flist.c:make_file, whose entry gives a
    /// copied backup its attributes, keeps no nanoseconds of the mtime.
    int protocol = 32;
    /// The longest module-relative backup name accepted (upstream MAXPATHLEN).
    std::size_t max_name = 4096;
};

/// @brief upstream make_backup's results.
enum class BackupResult : int {
    Failed = 0,     ///< an error was reported; the original is untouched
    Moved = 1,      ///< the original was renamed into the backup area (it is gone)
    Duplicated = 2, ///< a hard link or a copy was made (the original is still there)
    NothingToKeep = 3, ///< the original does not exist or is not worth keeping
};

/// @brief Makes upstream-compatible backups beneath the module root.
///
/// Not thread-safe: a push's generator and receiver threads each own one (creating the same
/// backup directory from both is harmless: EEXIST is checked like upstream's loop does).
class BackupMaker {
public:
    struct Hooks {
        /// A message for the client and the log (upstream rprintf).
        std::function<void(LogCode, std::string)> message;
        /// upstream rsyserr(code, err, text).
        std::function<void(LogCode, int, std::string)> syserr;
        /// upstream full_fname() of a name relative to the transfer root.
        std::function<std::string(std::string_view)> full_fname;
        /// Removes the entry (a name relative to the transfer root) that is in the way of a
        /// backup (upstream delete_item with DEL_FOR_BACKUP | DEL_RECURSE); true when gone.
        /// Empty: the BackupMaker removes it itself (recursively, without logging).
        std::function<bool(const std::string& name, std::uint32_t mode)> remove_in_way;
    };

    /// @param writer does every filesystem change (must outlive this object).
    /// @param settings the session's backup settings.
    /// @param hooks where messages go (empty hooks: silent).
    BackupMaker(const ModuleWriter& writer, BackupSettings settings, Hooks hooks);

    /// @brief upstream backup.c:make_backup for @p name (relative to the transfer root).
    /// @param prefer_rename rename instead of hard-linking first (deletions, atomic replacement).
    /// @return what happened; Failed after an error message.
    [[nodiscard]] BackupResult make_backup(const std::string& name, bool prefer_rename);

    /// @brief The --inplace backup (upstream recv_generator's back_file copy): copies the
    ///        regular file @p name to its backup name (replacing an older backup) with its
    ///        attributes, before the original is updated in place.
    /// @return the backup's name as backup_name() gives it; nullopt when @p name is gone or
    ///         after an error message.
    /// @param announce say "backed up ..." now (upstream says it once the sums are sent:
    ///        a caller passing false calls announce() then).
    [[nodiscard]] std::optional<std::string> copy_backup(const std::string& name, bool announce = true);
    /// @brief The "backed up NAME to BACKUP" line (INFO_BACKUP), for a copy_backup() made
    ///        without announcing it.
    void announce(const std::string& name, const std::string& shown) const;

    /// @brief upstream get_backup_name: the backup's name relative to the transfer root (as
    ///        upstream shows it), creating the missing backup directories on the way.
    /// @return nullopt after an error message.
    [[nodiscard]] std::optional<std::string> backup_name(const std::string& name);

    /// @brief The module-relative path of a name returned by backup_name().
    [[nodiscard]] std::string module_path_of_backup(const std::string& name) const;

    /// @brief upstream delete.c:is_backup_file: does @p name end in the suffix (and is longer)?
    [[nodiscard]] bool is_backup_file(std::string_view name) const noexcept;
    /// @brief Whether a --backup-dir is in use.
    [[nodiscard]] bool has_dir() const noexcept { return !s_.dir.empty(); }
    [[nodiscard]] const BackupSettings& settings() const noexcept { return s_; }

private:
    [[nodiscard]] std::string local(std::string_view name) const;
    /// 1 an existing directory, 0 missing (or removed), -1 error reported.
    int validate_dir(const std::string& backup_rel, const std::string& shown);
    bool make_backup_dirs(const std::string& name);
    bool remove_entry(const std::string& module_rel, std::uint32_t mode);
    /// 0: use the copy code, 1 renamed, 2 hard-linked; @p err gets the failing errno.
    int link_or_rename(const std::string& from, const std::string& to, bool prefer_rename, const struct stat& st,
                       Errno& err);
    bool copy_regular(const std::string& from, const std::string& to, const struct stat& st, Errno& err);
    void copy_attrs(const std::string& to_rel, const std::string& shown, const struct stat& st);
    /// lstat of a module-relative path as upstream's x_lstat sees it: under "fake super"
    /// with the entry's user.rsync.%stat record laid over it (a corrupt one ends the
    /// transfer as upstream's get_stat_xattr does).
    Errno attr_source_stat(const std::string& rel, std::string_view name, struct stat& st) const;
    /// The attributes a copy of the regular file @p rel gets: its record's under "fake
    /// super" when that still says regular file, else @p real.
    struct stat regular_attrs(const std::string& rel, std::string_view name, const struct stat& real) const;
    bool unsafe_link(const std::string& name, std::string& target) const;
    void say(LogCode code, std::string text) const;
    void sys(LogCode code, int err, std::string text) const;
    [[nodiscard]] std::string full(std::string_view name) const;

    const ModuleWriter& w_;
    BackupSettings s_;
    Hooks h_;
    bool dir_ready_ = false;
};

} // namespace ocr::transfer
