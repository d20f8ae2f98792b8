// SPDX-License-Identifier: MIT
// The "max connections" slots, counted per lock file as upstream's record locks are.
#pragma once

#include "daemon/lock_files.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace ocr::daemon {

/// @brief One claimed slot: slot @p index of the lock file @p lock_file.
struct ConnectionSlot {
    std::string lock_file;
    int index = 0;
    /// The lock file the slot's record lock is on (null: counted in memory only). Shared,
    /// so that a slot claimed before a reload can still give its lock back.
    std::shared_ptr<const UniqueFd> fd;
    friend bool operator==(const ConnectionSlot&, const ConnectionSlot&) = default;
};

/// @brief What claiming a slot came to.
struct SlotClaim {
    std::optional<ConnectionSlot> slot; ///< the slot, when one was free
    int open_errno = 0;                 ///< non-zero: the lock file could not be opened
};

/// @brief The slots every live connection holds.
///
/// Upstream (connection.c:claim_connection) locks the first free 4-byte range among the
/// first "max connections" ranges of the module's lock file. Modules that share a lock
/// file (by default all of them) therefore share its slots: a connection to a module
/// with a limit of 2 that holds slot 0 fills a module whose limit is 1. The front-end is
/// one process, whose own record locks never conflict with each other, so which slots our
/// connections hold is kept in memory; each claimed slot also takes the write lock on its
/// range of the lock file (an open-file-description lock, which a reload's new descriptor
/// cannot drop), so that other daemons sharing the file, upstream's included, see it, and
/// a range another daemon holds is skipped.
class ConnectionSlots {
public:
    /// @brief From now on, claims lock ranges in these files (after a start or a reload).
    ///        A lock file not in the table is counted in memory only.
    void use_lock_files(LockFileTable files) { files_ = std::move(files); }

    /// @brief Takes the lowest free slot below @p max_connections of @p lock_file; no slot
    ///        when all of them are held (or the limit is not positive), or when the lock
    ///        file could not be opened (then open_errno says why).
    [[nodiscard]] SlotClaim claim(const std::string& lock_file, int max_connections);
    /// @brief Gives a slot back, and its record lock (unknown slots are ignored).
    void release(const ConnectionSlot& slot);
    /// @brief How many slots of @p lock_file are held.
    [[nodiscard]] std::size_t held(const std::string& lock_file) const;

private:
    LockFileTable files_;
    std::map<std::string, std::set<int>> held_;
};

} // namespace ocr::daemon
