// SPDX-License-Identifier: MIT
// Where a worker's filter engine gets its files: the operator's files (named by the
// module's configuration) are read while the worker can still see them, before it
// confines itself; files inside the module are read through the confined ModuleFs.
#pragma once

#include "transfer/filter_source.hpp"
#include "transfer/module_fs.hpp"

#include <map>
#include <string>

namespace ocr::worker {

/// @brief The worker's FilterFileSource.
///
/// Upstream reads "include from"/"exclude from" and the merge files of "filter" in
/// clientserver.c:rsync_module before it chroots. We do the same by recording every
/// operator file the first build of the module's filter asks for (record mode), and
/// serving later builds from those copies.
class WorkerFilterFiles final : public transfer::FilterFileSource {
public:
    /// @brief Until confined() is called, operator files are read from the filesystem
    ///        and remembered; module files are not available.
    WorkerFilterFiles() = default;

    /// @brief From now on operator files come from the copies only, and module files
    ///        from @p fs (which must outlive this object).
    void confined(const transfer::ModuleFs& fs) noexcept { fs_ = &fs; }

    transfer::FilterFileRead read_module_file(std::string_view path, std::size_t max_bytes) override;
    transfer::FilterFileRead read_operator_file(std::string_view path, std::size_t max_bytes) override;

private:
    const transfer::ModuleFs* fs_ = nullptr;
    std::map<std::string, transfer::FilterFileRead, std::less<>> operator_files_;
};

/// @brief Reads all of @p fd, failing with EFBIG beyond @p max_bytes.
[[nodiscard]] transfer::FilterFileRead read_whole_fd(int fd, std::size_t max_bytes);

} // namespace ocr::worker
