// SPDX-License-Identifier: MIT
// What a push's generator and receiver threads share: options, the lists, the queue
// between them, the destination's layout and the session's callbacks.
#pragma once

#include "protocol/flist_entry.hpp"
#include "transfer/chmod_rules.hpp"
#include "transfer/module_writer.hpp"
#include "transfer/push_attrs.hpp"
#include "transfer/push_channel.hpp"
#include "transfer/receiver_flists.hpp"
#include "transfer/transfer_options.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ocr::transfer {

class PushDeletion;

/// Upstream FNAMECMP_* basis types.
inline constexpr std::uint8_t kBasisFname = 0x80;
inline constexpr std::uint8_t kBasisPartialDir = 0x81;
inline constexpr std::uint8_t kBasisBackup = 0x82;
inline constexpr std::uint8_t kBasisFuzzy = 0x83;

/// @brief A transfer-log line to write (upstream log_item with FLOG on a receiving daemon).
/// Upstream SYMLINK_PREFIX: what a munging module puts before every received symlink
/// target (flist.c:receive_file_entry), so the target as the receiver knows it.
inline constexpr std::string_view kMungedSymlinkPrefix = "/rsyncd-munged/";

struct PushLogItem {
    const protocol::FileEntry* entry = nullptr;
    std::uint32_t mode = 0;     ///< the mode as the receiver used it
    std::uint32_t iflags = 0;
    std::int64_t bytes_read = 0; ///< socket bytes read for the file (%b)
    /// The receiver's owner and group for the entry (after --usermap/--groupmap/--chown
    /// and name matching), which upstream's %U and %G show; unset: the sender's ids.
    std::optional<std::uint32_t> local_uid{};
    std::optional<std::uint32_t> local_gid{};
    /// The receiver may not give the group (not root, not a member): upstream's
    /// FLAG_SKIP_GROUP, for which %G shows "DEFAULT".
    bool group_skipped = false;
    /// The whole-file sum the sender sent after a transferred file's data (%C); empty
    /// when nothing was transferred.
    std::span<const std::uint8_t> file_sum{};
    /// The item's xname (a hard link's leader): %L shows " => NAME" (upstream log_item).
    std::string_view hlink{};
};

/// @brief Where the destination is (upstream main.c:get_local_name's outcome).
struct PushDestination {
    /// Module-relative directory the list's names are relative to ("" = module root).
    std::string base;
    /// Set when a single file is written under another name (upstream local_name):
    /// the module-relative path of that file.
    std::optional<std::string> solo_file;
    /// The destination directory does not exist during a dry run (upstream dry_run > 1).
    bool missing = false;
    /// get_local_name created the destination directory (upstream FLAG_DIR_CREATED on ".").
    bool created = false;
};

/// @brief A --temp-dir or --backup-dir argument as a module-relative path: from the module
///        root when it starts with '/', else from the destination directory, which is
///        upstream's current directory (main.c:get_local_name chdirs there). ".." is
///        resolved and never climbs above the module root, as a chroot would keep it.
/// @return "" for the module root itself.
[[nodiscard]] std::string resolve_from_destination(const PushDestination& dest, std::string_view arg);

/// @brief Everything both threads use; owned by the engine, outlives both threads.
struct PushShared {
    const ReceiverOptions& opt;
    const ModuleWriter& writer;
    ReceiverFileLists& lists;
    PushChannel& channel;
    PushDestination dest;
    std::string module_name;
    bool chrooted = false;
    AttrSettings attrs;
    /// Client --chmod plus the module's incoming chmod, applied to received modes (or nullptr).
    const ChmodRules* chmod = nullptr;
    /// The module's filter: true refuses the module-relative name.
    std::function<bool(std::string_view, bool)> daemon_excluded;
    /// Transfer logging (thread-safe; may be empty).
    std::function<void(const PushLogItem&)> log_item;
    /// The daemon-log half of upstream log.c:log_delete (name relative to the destination;
    /// may be empty).
    std::function<void(std::string_view name, std::uint32_t mode)> log_delete;
    /// Deletion and backups (set by the engine once the destination is known; may be null).
    PushDeletion* deletion = nullptr;
    /// The temp dir, module-relative ("." for the root; empty: none), resolved once the
    /// destination is known (resolve_from_destination of opt.temp_dir).
    std::string temp_dir;

    /// @brief The module-relative path of list name @p name.
    [[nodiscard]] std::string local_path(std::string_view name) const;
    /// @brief upstream full_fname() of list name @p name: "\"NAME\" (in MODULE)".
    [[nodiscard]] std::string full_fname(std::string_view name) const;
    /// @brief The entry's mode after the chmod rules (upstream recv_file_entry's tweak_mode).
    [[nodiscard]] std::uint32_t entry_mode(const protocol::FileEntry& e) const;
    /// @brief The local owner and group the entry should get.
    [[nodiscard]] AttrTarget target_for(const protocol::FileEntry& e, std::uint32_t mode) const;
    /// @brief lstat of a module-relative path, including "" (the module root).
    [[nodiscard]] Errno stat_path(const std::string& rel, struct stat& st) const;
    /// @brief The target of the symlink at @p rel, or nullopt when it is not one.
    [[nodiscard]] std::optional<std::string> read_link(const std::string& rel) const;
    /// @brief The symlink target as this module stores it (munged when configured).
    [[nodiscard]] std::string stored_target(const protocol::FileEntry& e) const;
    /// @brief upstream util1.c:partial_dir_fname: where @p rel (list name @p name) is kept
    ///        in its --partial-dir; nullopt without one or when the module excludes it.
    [[nodiscard]] std::optional<std::string> partial_path(std::string_view rel, std::string_view name) const;
    /// @brief upstream handle_partial_dir(PDIR_CREATE): makes the partial dir holding
    ///        @p partial_rel (0700), replacing a non-directory; false when that failed.
    [[nodiscard]] bool make_partial_dir(std::string_view partial_rel) const;
    /// @brief upstream handle_partial_dir(PDIR_DELETE): removes the (empty) partial dir.
    void remove_partial_dir(std::string_view partial_rel) const;
    /// @brief upstream dflt_perms: ACCESSPERMS & ~orig_umask.
    [[nodiscard]] std::uint32_t default_perms() const noexcept { return 0777u & ~opt.umask; }
};

} // namespace ocr::transfer
