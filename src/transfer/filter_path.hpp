// SPDX-License-Identifier: MIT
// Module-relative path arithmetic for merge-file names and filter directories.
#pragma once

#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief Resolves @p path inside the module the way upstream resolves a merge-file name on a
///        daemon (util1.c:sanitize_path, then clean_fname with CFN_COLLAPSE_DOT_DOT_DIRS).
///
/// A leading '/' means the module root; otherwise @p path is relative to @p base_dir. Empty
/// and "." components are dropped and ".." removes the previous component, never climbing
/// above the module root.
/// @param base_dir A module-relative directory ("" for the module root).
/// @param path The name to resolve.
/// @return The module-relative result without leading or trailing '/' ("" for the root).
[[nodiscard]] std::string resolve_module_path(std::string_view base_dir, std::string_view path);

/// @brief Joins two module-relative paths with one '/' ("" + "x" is "x").
[[nodiscard]] std::string join_module_path(std::string_view dir, std::string_view name);

/// @brief The part of @p path after its last '/' (all of it when there is none).
[[nodiscard]] std::string_view path_basename(std::string_view path) noexcept;

} // namespace ocr::transfer
