// SPDX-License-Identifier: MIT
#pragma once
/// @file fuzzy.hpp
/// @brief --fuzzy: picking a basis for a missing file among similar names in its
///        directory (and, with -yy, in the alt-dest dirs). Pure: no file access.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace ocr::transfer {

/// One entry of a scanned directory, as the fuzzy search needs it.
struct FuzzyCandidate {
    std::string name;       ///< basename
    mode_t mode = 0;
    std::int64_t size = 0;
    std::int64_t mtime = 0;
    bool sent = false;      ///< upstream FLAG_FILE_SENT: being replaced, so no basis
};

/// @brief Levenshtein distance in units of 1<<16, with the byte difference of a changed
///        character as a fraction (upstream util1.c:fuzzy_distance). Returns more than
///        @p upper_limit at once when the length difference alone exceeds it.
std::uint32_t fuzzy_distance(std::string_view s1, std::string_view s2, std::uint32_t upper_limit);

/// @brief The significant suffix of a file name (upstream util1.c:find_filename_suffix):
///        ".bak"/".old"/".orig" and "~N" backup suffixes are skipped, an all-digit one
///        only counts when nothing better is before it; leading dots are no suffix.
std::string_view filename_suffix(std::string_view name);

struct FuzzyChoice {
    std::size_t dir = 0;    ///< which list (0: the destination dir; i: basis dir i-1)
    std::size_t index = 0;  ///< entry within it
};

/// @brief Upstream generator.c:find_fuzzy over @p dirs (each sorted like a file list):
///        a regular non-empty unsent file of the same size and mtime first, else the
///        nearest name (suffix weighted x10, ties to the later entry, at most 25 units).
/// @param modify_window upstream's --modify-window for the mtime comparison.
std::optional<FuzzyChoice> choose_fuzzy(std::string_view name, std::int64_t size, std::int64_t mtime,
                                        const std::vector<std::vector<FuzzyCandidate>>& dirs,
                                        int modify_window);

} // namespace ocr::transfer
