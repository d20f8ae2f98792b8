// SPDX-License-Identifier: MIT
// A module's "refuse options" turned into the set of option-table rows the daemon refuses.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// @brief Features an rsync build may lack; upstream refuses the matching options when
///        they are missing (the tail of options.c:set_refuse_options). The defaults are
///        Debian's rsync 3.5.0, the reference build ("no crtimes").
struct BuildFeatures {
    bool atimes = true;     ///< SUPPORT_ATIMES; without it "atimes" is refused
    bool hard_links = true; ///< SUPPORT_HARD_LINKS; without it "link-dest" is refused
    bool mktime = true;     ///< HAVE_MKTIME; without it "stop-at" is refused
    bool iconv = true;      ///< ICONV_OPTION; without it "iconv" is refused
    bool setvbuf = true;    ///< HAVE_SETVBUF; without it "outbuf" is refused
    bool crtimes = false;   ///< SUPPORT_CRTIMES; without it "crtimes" is refused
    bool acls = true;       ///< SUPPORT_ACLS; without it -A fails ("ACLs are not supported ...")
    bool xattrs = true;     ///< SUPPORT_XATTRS; without it -X fails (not a refusal)
};

/// @brief Everything besides the refuse string that upstream's refusal depends on.
struct RefuseContext {
    /// The module's "charset" is non-empty; without one a daemon refuses --iconv.
    bool charset_set = false;
    BuildFeatures features{};
};

/// @brief Rows of the option table a module refuses, plus what the parser needs to report
///        options that are refused only by implication.
struct RefuseSet {
    /// Indexed like option_table(); true = the row is refused.
    std::vector<bool> refused;
    /// Refuse strings that matched no option, as upstream logs them: one
    /// "No match for refuse-options string \"x\"" line each (for --check-config).
    std::vector<std::string> unmatched;

    /// The last refused row (table order) among -r -d -l -p -t -g -o -D: reported for -a.
    std::optional<std::size_t> archive_part;
    std::optional<std::size_t> compress;      ///< the refused "compress" row (-z)
    std::optional<std::size_t> delete_;       ///< "delete"
    std::optional<std::size_t> delete_before; ///< "delete-before"
    std::optional<std::size_t> delete_during; ///< "delete-during"
    std::optional<std::size_t> partial;       ///< "partial"
    std::optional<std::size_t> progress;      ///< "progress"
    std::optional<std::size_t> inplace;       ///< "inplace"
    std::optional<std::size_t> no_iconv;      ///< "no-iconv"

    /// @brief Is option-table row @p row refused? Rows out of range are not.
    [[nodiscard]] bool is_refused(std::size_t row) const noexcept;
    /// @brief Is the long option @p long_name refused (exact name, no dashes)?
    [[nodiscard]] bool is_refused(std::string_view long_name) const noexcept;
    /// @brief Is the row with short name @p c refused?
    [[nodiscard]] bool is_refused_short(char c) const noexcept;
};

/// @brief A set that refuses nothing at all (what a non-daemon parse uses).
[[nodiscard]] RefuseSet no_refusals();

/// @brief Upstream options.c:set_refuse_options for a daemon module.
///
/// The value is split on spaces (only spaces). Each word is matched against every long name
/// and every one-letter short name with rsync's wildmatch; "!" before a word accepts instead
/// of refusing, and later words override earlier ones. A word without wildcard characters
/// matches the first row it names and also every row that is the same capability (same
/// variable and value, or same parser action: "del" and "delete-during", "out-format" and
/// "log-format", ...). Wildcards never match the exact-only rows (-e, -0, -s, -n, --iconv,
/// --no-iconv, --checksum-seed, --copy-devices, --write-devices, --log-format, --sender,
/// --server). "a" / "archive" refuse -a and each of -rdlptgoD. A daemon always refuses
/// --copy-devices and --write-devices unless a later "!name" accepts them, and then refuses,
/// with no way to accept them, --log-file, --log-file-format, --insecure-links, --iconv when
/// the module has no charset, and whatever @p ctx's build lacks.
/// @param refuse_value The module's "refuse options" value.
/// @param ctx Module charset and build features.
/// @return The refused rows, the implied-refusal rows and the unmatched words.
[[nodiscard]] RefuseSet parse_refuse_options(std::string_view refuse_value,
                                             const RefuseContext& ctx = {});

/// @brief Upstream options.c:create_refuse_error text for a refused row, without the
///        trailing newline: "The server is configured to refuse --NAME" plus " (-X)" when the
///        row has a short name. A short-only row prints its missing long name as "(null)", as
///        upstream's printf does ("--(null) (-D)").
/// @param row An option-table index.
/// @return The text (empty when @p row is out of range).
[[nodiscard]] std::string refuse_error_text(std::size_t row);

} // namespace ocr::daemon
