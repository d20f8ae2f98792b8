// SPDX-License-Identifier: MIT
// Path clean-ups a receiver applies to names and symlink targets from the sender
// (upstream util1.c clean_fname, sanitize_path, count_dir_elements).
#pragma once

#include <string>
#include <string_view>

namespace ocr::protocol {

/// @brief Result of cleaning a received name.
struct CleanedName {
    bool ok = false; ///< false: the name has a ".." component
    /// The cleaned name; when !ok, the buffer as upstream had it when it gave up (that is
    /// what its error message prints).
    std::string text;
};

/// @brief Cleans a received name as upstream's clean_fname(CFN_REFUSE_DOT_DOT_DIRS):
///        repeated slashes collapse, "." components and a trailing slash go, a leading
///        slash stays, and any ".." component is refused. An empty result becomes ".".
[[nodiscard]] CleanedName clean_received_name(std::string_view name);

/// @brief Makes @p path stay inside the transfer as if chrooted (upstream sanitize_path with
///        an empty root): leading and repeated slashes and "." components go, a ".."
///        climbs a component already copied and is otherwise dropped, except that the
///        first @p depth leading ".." components are kept. A trailing slash stays; an
///        empty result becomes ".".
[[nodiscard]] std::string sanitize_path(std::string_view path, int depth);

/// @brief Number of components in @p path, not counting "." ones after a slash
///        (upstream count_dir_elements).
[[nodiscard]] int count_dir_elements(std::string_view path) noexcept;

} // namespace ocr::protocol
