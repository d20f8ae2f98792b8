// SPDX-License-Identifier: MIT
// The "max connections" slots, counted per lock file as upstream's record locks are.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

namespace ocr::daemon {

/// @brief One claimed slot: slot @p index of the lock file @p lock_file.
struct ConnectionSlot {
    std::string lock_file;
    int index = 0;
    friend bool operator==(const ConnectionSlot&, const ConnectionSlot&) = default;
};

/// @brief The slots every live connection holds.
///
/// Upstream (connection.c:claim_connection) locks the first free 4-byte range among the
/// first "max connections" ranges of the module's lock file. Modules that share a lock
/// file (by default all of them) therefore share its slots: a connection to a module
/// with a limit of 2 that holds slot 0 fills a module whose limit is 1. The front-end is
/// one process, where record locks would not conflict with each other, so the same
/// rule is kept in memory.
class ConnectionSlots {
public:
    /// @brief Takes the lowest free slot below @p max_connections of @p lock_file;
    ///        nullopt when all of them are held (or the limit is not positive).
    [[nodiscard]] std::optional<ConnectionSlot> claim(const std::string& lock_file, int max_connections);
    /// @brief Gives a slot back (unknown slots are ignored).
    void release(const ConnectionSlot& slot);
    /// @brief How many slots of @p lock_file are held.
    [[nodiscard]] std::size_t held(const std::string& lock_file) const;

private:
    std::map<std::string, std::set<int>> held_;
};

} // namespace ocr::daemon
