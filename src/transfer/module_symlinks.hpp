// SPDX-License-Identifier: MIT
// Following the symlinks of a module-relative path the way a chrooted upstream would,
// without ever leaving the module.
#pragma once

#include "transfer/module_writer.hpp"

#include <sys/stat.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief Resolves every symlink in @p rel to the module-relative path it leads to.
///
/// Upstream follows symlinks in a --link-dest/--compare-dest/--copy-dest argument (a
/// "latest" link to the newest backup is the usual case); every later access here refuses
/// symlinks, so the argument is made symlink-free first. In a chrooted module (@p module_dir
/// "/") ".." leaves the real parent and stops at the module root, and an absolute target
/// starts from the module root, as the chroot makes them. In a module that is not chrooted
/// (@p module_dir is its path), a link leading above the module is never followed, and an
/// absolute target only when @p absolute_inside is set and it names a place inside the
/// module (upstream 3.5.0 itself does not follow absolute links there for basis files).
/// @param lstat_fn lstat of a module-relative path without symlinks in it.
/// @param readlink_fn the target of the symlink at a module-relative path.
/// @return the resolved path ("" for the module root), or nullopt when a component is
///         missing, a target leaves the module, or there are more than 40 links (ELOOP).
[[nodiscard]] std::optional<std::string>
resolve_module_symlinks(std::string_view rel, std::string_view module_dir, bool absolute_inside,
                        const std::function<Errno(const std::string&, struct stat&)>& lstat_fn,
                        const std::function<std::optional<std::string>(const std::string&)>& readlink_fn);

} // namespace ocr::transfer
