#pragma once
/// @file fuzzy_scan.hpp
/// @brief Lists a directory of the module for the --fuzzy basis search.

#include "transfer/fuzzy.hpp"
#include "transfer/module_writer.hpp"

#include <string>
#include <vector>

namespace ocr::transfer {

/// @brief The entries of module-relative directory @p dir_rel, sorted by name as a file
///        list is (upstream generator.c:recv_generator builds this with get_dirlist and
///        GDL_IGNORE_FILTER_RULES, so no filter hides anything). Entries are lstat'ed.
///        A directory that cannot be read gives an empty list (upstream's generator
///        ignores a missing one; the search then just has nothing there).
std::vector<FuzzyCandidate> scan_fuzzy_dir(const ModuleWriter& writer, const std::string& dir_rel);

} // namespace ocr::transfer
