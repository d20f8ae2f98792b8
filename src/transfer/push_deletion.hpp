// SPDX-License-Identifier: MIT
// A push's deletions and backups wired to the session (timing, reporting, statistics).
#pragma once

#include "protocol/flist_entry.hpp"
#include "transfer/backup.hpp"
#include "transfer/connection.hpp"
#include "transfer/deleter.hpp"
#include "transfer/filter_set.hpp"
#include "transfer/push_context.hpp"
#include "transfer/reporter.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief Deletion and backups of one push; created by the engine once the destination is
///        known, used by the generator thread (and receiver_backup() by the receiver thread).
class PushDeletion {
public:
    /// @param filters the session's filters (the module's and the client's); nullptr: none.
    PushDeletion(PushShared& shared, Connection& conn, Reporter& report, const FilterSet* filters);
    PushDeletion(const PushDeletion&) = delete;
    PushDeletion& operator=(const PushDeletion&) = delete;

    /// @brief upstream: --delete-before runs before the first file is generated.
    void before_generating();
    /// @brief upstream: --delete-during/--delete-delay for a directory the generator just
    ///        handled, with the names of @p list_index (its contents) as what the sender has.
    /// @param dir_missing the directory is missing or was refused (FLAG_MISSING_DIR).
    void in_dir(const protocol::FileEntry& dir, std::size_t list_index, bool dir_missing);
    /// @brief Whether in_dir() should be called for directories now.
    [[nodiscard]] bool during() const noexcept;
    /// @brief upstream EARLY_DELETE_DONE_MSG().
    [[nodiscard]] bool early_done() const noexcept;
    /// @brief upstream main.c:write_del_stats when deletion is on (protocol 31+ callers).
    void write_del_stats();
    /// @brief The end of upstream generate_files: --delete-delay's list, --delete-after's
    ///        pass and the --max-delete warning.
    void after_phases();

    /// @brief Frees @p rel (module-relative) for a new entry of @p new_mode (upstream
    ///        delete_item with DEL_FOR_*, which backs up a replaced non-directory with -b).
    /// @return true when the name is free now.
    bool make_room(const std::string& rel, const struct stat& st, std::uint32_t new_mode);

    /// @brief upstream generator.c:atomic_create with -b: before a symlink, device or special
    ///        replaces the non-directory at @p rel (module-relative), back it up (hard-linked
    ///        when the replacement is renamed over it atomically, else moved away).
    /// @return 1 backed up (when not @p atomic, the name is free now), 0 nothing to do (no -b,
    ///         or a directory is in the way: the caller makes room), -1 the backup failed.
    int backup_in_way(const std::string& rel, const struct stat& st, bool atomic);
    /// @brief upstream generator.c:recv_generator for a --delete-missing-args entry (mode 0):
    ///        whatever has its name at @p rel (module-relative) is deleted, a directory with
    ///        its contents only with --delete or --force; a name the client's filters exclude
    ///        is left alone.
    void delete_missing_arg(const std::string& rel, const struct stat& st);
    /// @brief The --inplace backup (upstream recv_generator's back_file): copies @p rel
    ///        (module-relative) to its backup name before it is updated in place, without
    ///        the "backed up" line (see announce_inplace_backup()).
    /// @return the backup's name as upstream shows it, or nullopt (after a message) on
    ///         failure or without -b.
    [[nodiscard]] std::optional<std::string> backup_for_inplace(const std::string& rel);
    /// @brief The "backed up" line of a backup_for_inplace() copy (upstream says it at the
    ///        end of recv_generator, after the file's sums).
    void announce_inplace_backup(const std::string& rel, const std::string& shown);

    /// @brief The generator thread's backups (nullptr without -b).
    [[nodiscard]] BackupMaker* generator_backup() noexcept { return gen_backup_.get(); }
    /// @brief The receiver thread's backups (nullptr without -b); its messages go through
    ///        the channel.
    [[nodiscard]] BackupMaker* receiver_backup() noexcept { return recv_backup_.get(); }
    /// @brief The backup of @p rel (module-relative) before it is replaced by a received
    ///        file (upstream rsync.c:finish_transfer); on the receiver thread.
    /// @return false when the backup failed (upstream then exits with RERR_FILEIO).
    bool backup_replaced(const std::string& rel);

    /// @brief What was deleted so far.
    [[nodiscard]] const DeleteStats& stats() const noexcept { return deleter_->stats(); }

private:
    [[nodiscard]] std::string name_of(const std::string& rel) const;
    [[nodiscard]] bool enabled() const noexcept;
    void deleted(std::string_view name, std::uint32_t mode);
    [[nodiscard]] const ListNames& whole_list();
    BackupSettings backup_settings() const;

    PushShared& s_;
    Connection& conn_;
    Reporter& report_;
    const FilterSet* filters_;
    std::unique_ptr<BackupMaker> gen_backup_;
    std::unique_ptr<BackupMaker> recv_backup_;
    std::unique_ptr<Deleter> deleter_;
    std::unique_ptr<ListNames> whole_;
};

} // namespace ocr::transfer
