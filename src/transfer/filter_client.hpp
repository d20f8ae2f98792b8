// SPDX-License-Identifier: MIT
// The client's filter rules that arrive as server options (-M--filter, -F, --exclude-from ...).
#pragma once

#include "transfer/filter_set.hpp"

#include <cstddef>
#include <string_view>

namespace ocr::transfer {

/// @brief How an option's value is parsed (upstream options.c:parse_arguments).
enum class OptionRuleKind {
    Filter,      ///< --filter/-f (and -F's ": /.rsync-filter", "- .rsync-filter"): full syntax.
    Exclude,     ///< --exclude: one pattern, optional "- "/"+ " prefix.
    Include,     ///< --include: one pattern, optional "- "/"+ " prefix.
    ExcludeFrom, ///< --exclude-from: a file of exclude patterns inside the module.
    IncludeFrom, ///< --include-from: a file of include patterns inside the module.
};

/// @brief Adds one option rule to the client list, in option order, before the wire rules.
///
/// A --exclude-from/--include-from file is read at once through
/// FilterFileSource::read_module_file() with fatal errors (exit 11 when unreadable). The
/// caller must already have refused a path the module's filter hides ("Your options have been
/// rejected by the server.", upstream options.c); the engine treats such a file as absent.
/// @param set The session's filter set.
/// @param kind What the option was.
/// @param value The option's value. For the *From kinds: the path as upstream's daemon keeps
///        it after sanitize_path() (a leading '/' followed by the module dir when the module is
///        not chrooted).
/// @param module_dirlen Upstream module_dirlen: for an absolute *From path, this many leading
///        characters (the module dir) are dropped to get the module-relative name (0 for a
///        plain chroot module).
/// @throw FilterError as FilterSet::add_client_rules() / add_client_rule_file().
void add_option_rule(FilterSet& set, OptionRuleKind kind, std::string_view value,
                     std::size_t module_dirlen = 0);

} // namespace ocr::transfer
