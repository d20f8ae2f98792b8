// SPDX-License-Identifier: MIT
// The "lock file"s of the modules with "max connections", opened while the daemon still
// has the rights to (upstream connection.c:claim_connection opens one per connection).
#pragma once

#include "common/unique_fd.hpp"
#include "daemon/config.hpp"

#include <map>
#include <memory>
#include <string>

namespace ocr::daemon {

/// @brief One lock file: its descriptor, or why it could not be opened.
struct LockFile {
    std::shared_ptr<const UniqueFd> fd; ///< shared with the slots claimed through it
    int open_errno = 0;                 ///< non-zero: open() failed with this errno
};

/// @brief Lock files by the path the config names them with.
using LockFileTable = std::map<std::string, LockFile, std::less<>>;

/// @brief Opens (creating it 0600, as upstream does) the lock file of every module with a
///        positive "max connections"; a path that cannot be opened is kept with its errno.
[[nodiscard]] LockFileTable open_lock_files(const Config& config);

} // namespace ocr::daemon
