// SPDX-License-Identifier: MIT
// --chmod, "incoming chmod" and "outgoing chmod" rules: their parser and how they change a mode.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::transfer {

/// @brief One comma-separated item of a chmod spec, reduced to mask operations the way
///        upstream chmod.c:parse_chmod stores it (struct chmod_mode_struct).
struct ChmodRule {
    enum class Op { Add, Sub, Eq, Set };
    std::int32_t mode_and = 0;  ///< bits kept before mode_or is applied
    std::int32_t mode_or = 0;   ///< bits added
    std::int32_t copy_src = 0;  ///< "u"/"g"/"o" after the operator: 0100, 0010 or 0001
    std::int32_t copy_dst = 0;  ///< who receives the copied bits (a 0111-style mask)
    std::int32_t copy_and = 0;  ///< mask over the copied bits (the umask when no "ugoa")
    Op op = Op::Add;
    bool x_keep = false;        ///< "X": only add x to directories and already-executable files
    bool dirs_only = false;     ///< "D" prefix
    bool files_only = false;    ///< "F" prefix
};

/// @brief An ordered list of chmod rules; every rule applies, in order, to each mode.
///
/// A daemon appends the module's "incoming chmod"/"outgoing chmod" after the client's
/// --chmod rules so that the module's rules win (see SessionChmod).
class ChmodRules {
public:
    ChmodRules() = default;

    /// @brief Parses @p spec with upstream chmod.c:parse_chmod's grammar: comma-separated
    ///        items of an optional "D" or "F", then either an octal number (at most 07777)
    ///        or "[ugoa]*[-+=]" followed by "[rwxXst]*" or by one of "u", "g", "o" (copy).
    ///        Without "ugoa", added bits are limited by the umask.
    /// @param spec the rules, e.g. "Dg+s,ug+w,Fo-w,+X" or "D755,F644".
    /// @param umask the process umask at start-up (upstream orig_umask).
    /// @return the rules, or nullopt when any item is malformed.
    [[nodiscard]] static std::optional<ChmodRules> parse(std::string_view spec, std::uint32_t umask);

    /// @brief Parses @p spec and appends its rules after the existing ones, all or nothing.
    /// @return false (and no change) when @p spec is malformed.
    bool append(std::string_view spec, std::uint32_t umask);

    /// @brief Appends every rule of @p other after the existing ones.
    void append(const ChmodRules& other);

    /// @brief Applies the rules to @p mode (upstream chmod.c:tweak_mode): D-rules only to
    ///        directories, F-rules only to non-directories; the file-type bits are kept.
    /// @param mode a st_mode-style value (type and permission bits).
    /// @return the new mode.
    [[nodiscard]] std::uint32_t tweak_mode(std::uint32_t mode) const noexcept;

    /// @brief What the file list does with the rules (upstream flist.c: send_file_name and
    ///        recv_file_entry): symlinks and a zero mode are left alone.
    [[nodiscard]] std::uint32_t apply_to_entry(std::uint32_t mode) const noexcept;

    [[nodiscard]] bool empty() const noexcept { return rules_.empty(); }
    [[nodiscard]] const std::vector<ChmodRule>& rules() const noexcept { return rules_; }

private:
    std::vector<ChmodRule> rules_;
};

/// @brief The chmod rules of one daemon session (upstream clientserver.c:rsync_module).
struct SessionChmod {
    /// The client's --chmod rules followed by the module's: applied to every file-list
    /// entry the daemon sends (a pull) or receives (a push).
    ChmodRules all;
    /// The module's rules alone (upstream daemon_chmod_modes): a receiving daemon applies
    /// them once more to the mode it is about to set on each non-symlink
    /// (rsync.c:set_file_attrs), whether or not the client asked for --perms.
    ChmodRules module_only;
    /// Non-empty when the module's directive did not parse: the FLOG line to write
    /// (without newline). The session goes on without module rules, as upstream does.
    std::string log_line;
};

/// @brief Combines the client's --chmod specs with the module's directive.
/// @param client_specs the client's --chmod values, in order (each already validated).
/// @param module_spec the module's "outgoing chmod" (daemon sends) or "incoming chmod"
///        (daemon receives); empty for none.
/// @param am_sender true when the daemon sends (selects which directive's name is logged).
/// @param umask the daemon's umask at start-up.
/// @return the session's rules.
/// @throw std::invalid_argument if a client spec does not parse (the option parser must
///        have rejected it already).
[[nodiscard]] SessionChmod combine_session_chmod(const std::vector<std::string>& client_specs,
                                                 std::string_view module_spec, bool am_sender,
                                                 std::uint32_t umask);

} // namespace ocr::transfer
