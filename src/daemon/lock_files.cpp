// SPDX-License-Identifier: MIT
#include "daemon/lock_files.hpp"

#include <fcntl.h>

#include <cerrno>

namespace ocr::daemon {

LockFileTable open_lock_files(const Config& config)
{
    LockFileTable table;
    for (const ModuleSettings& m : config.modules()) {
        if (m.max_connections <= 0 || table.contains(m.lock_file))
            continue;
        LockFile entry;
        // Upstream connection.c:claim_connection: open(fname, O_RDWR|O_CREAT, 0600).
        UniqueFd fd(::open(m.lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (fd)
            entry.fd = std::make_shared<const UniqueFd>(std::move(fd));
        else
            entry.open_errno = errno;
        table.emplace(m.lock_file, std::move(entry));
    }
    return table;
}

} // namespace ocr::daemon
