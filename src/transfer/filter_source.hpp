// SPDX-License-Identifier: MIT
// How the filter engine reads merge files: through the caller, who holds the directory handles.
#pragma once

#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief The outcome of reading one filter file.
struct FilterFileRead {
    /// The whole file, or nullopt when it could not be read.
    std::optional<std::string> content;
    /// The errno value when @c content is nullopt (ENOENT, EACCES, ELOOP, EFBIG, ...).
    int error = 0;
};

/// @brief Reads the files that filter rules name. The filter engine never opens a file itself.
class FilterFileSource {
public:
    virtual ~FilterFileSource() = default;

    /// @brief Reads a file inside the module: a merge file named by the client, a
    ///        per-directory merge file, a .cvsignore. Must be confined beneath the module root
    ///        (no symlink or ".." may lead out), as upstream 3.5.0 confines peer-driven merges.
    /// @param path Module-relative, already resolved: no leading '/', no "." or ".."
    ///        components, never empty.
    /// @param max_bytes Larger files must fail with EFBIG.
    /// @return The content or the errno. A directory should read as an empty file: upstream
    ///         opens it without error and reads no rules from it.
    virtual FilterFileRead read_module_file(std::string_view path, std::size_t max_bytes) = 0;

    /// @brief Reads a file named by the module's own configuration ("include from",
    ///        "exclude from", merge rules of "filter", and the files those merge in): the
    ///        operator's files, which may live outside the module. Upstream reads them in
    ///        clientserver.c:rsync_module before chroot; the caller typically serves them from
    ///        copies taken before confinement.
    /// @param path The name as configured (absolute, or relative to the daemon's directory).
    /// @param max_bytes Larger files must fail with EFBIG.
    /// @return The content or the errno.
    virtual FilterFileRead read_operator_file(std::string_view path, std::size_t max_bytes) = 0;
};

/// @brief A source that has no files at all (every read fails with ENOENT).
class NoFilterFiles final : public FilterFileSource {
public:
    FilterFileRead read_module_file(std::string_view, std::size_t) override
    {
        return {std::nullopt, ENOENT};
    }
    FilterFileRead read_operator_file(std::string_view, std::size_t) override
    {
        return {std::nullopt, ENOENT};
    }
};

} // namespace ocr::transfer
