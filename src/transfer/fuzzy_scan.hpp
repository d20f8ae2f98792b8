// SPDX-License-Identifier: MIT
#pragma once
/// @file fuzzy_scan.hpp
/// @brief Lists a directory of the module for the --fuzzy basis search.

#include "transfer/fuzzy.hpp"
#include "transfer/module_writer.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::transfer {

/// @brief The entries of module-relative directory @p dir_rel, sorted by name as a file
///        list is (upstream generator.c:recv_generator builds this with get_dirlist and
///        GDL_IGNORE_FILTER_RULES: the client's rules hide nothing, but the daemon's
///        still do, flist.c:send_directory's SERVER_FILTERS). Entries are lstat'ed.
/// @param hidden told each entry's name and whether it is a directory; true drops it.
///        A directory that cannot be read gives an empty list (upstream's generator
///        ignores a missing one; the search then just has nothing there).
std::vector<FuzzyCandidate> scan_fuzzy_dir(const ModuleWriter& writer, const std::string& dir_rel,
                                           const std::function<bool(std::string_view, bool)>& hidden);

} // namespace ocr::transfer
