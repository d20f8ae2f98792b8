// SPDX-License-Identifier: MIT
// --usermap / --groupmap (and --chown, which the option parser turns into them) on a
// receiving daemon: the map's parser and how a sender's id becomes a local one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::transfer {

/// @brief Which database a map is about (changes its option name and its lookups).
enum class IdKind {
    User,  ///< --usermap: uids, getpwnam
    Group, ///< --groupmap: gids, getgrnam
};

/// @brief Turns a local user or group name into its id; nullopt when the name is unknown.
///        Never called with an empty name.
using IdNameLookup = std::function<std::optional<std::uint32_t>(const std::string& name)>;

/// @brief One "FROM:TO" item of a map.
struct IdMapRule {
    enum class Match {
        Id,       ///< FROM is a number: that sender id
        Range,    ///< FROM is "LO-HI": sender ids LO..HI (none when LO > HI)
        Name,     ///< FROM is a name: the sender's name for the id, exactly
        Wildcard, ///< FROM has '*', '?' or '[': a wildmatch pattern over the sender's name
    };
    Match match = Match::Id;
    std::uint32_t lo = 0;  ///< Id / Range
    std::uint32_t hi = 0;  ///< Range
    std::string pattern;   ///< Name / Wildcard
    std::uint32_t to = 0;  ///< the local id the item maps to
};

/// @brief A map error upstream ends the session for (exit code 1, RERR_SYNTAX).
struct IdMapFailure {
    std::string message;   ///< upstream's FERROR text without its newline
    int upstream_line = 0; ///< the uidlist.c line of upstream's exit_cleanup
};

/// @brief What parsing a map gave (defined below IdMap, which it holds).
struct IdMapParse;

/// @brief An ordered list of map items; the first item that matches decides.
class IdMap {
public:
    IdMap() = default;

    /// @brief Parses @p spec as upstream uidlist.c:parse_name_map does on a receiver:
    ///        comma-separated "FROM:TO" items, handled from the last to the first (so
    ///        messages come in that order). FROM is a number, a "LO-HI" range, a
    ///        wildcard pattern or a name; TO is a number or a local name. An unknown TO
    ///        name drops its item with a message; a missing colon, an empty TO or a
    ///        malformed number fails the whole map. The text ends at its first NUL.
    /// @param spec the option's value as the client sent it.
    /// @param kind whether it is --usermap or --groupmap.
    /// @param lookup local name to id (called for TO names that are not all digits).
    /// @return the map, the messages in upstream's order, and the failure if any.
    [[nodiscard]] static IdMapParse parse(std::string_view spec, IdKind kind, const IdNameLookup& lookup);

    /// @brief The TO of the first item that matches sender id @p id named @p name
    ///        (empty when the sender gave no name), or nullopt when none does.
    [[nodiscard]] std::optional<std::uint32_t> find(std::uint32_t id, std::string_view name) const;

    [[nodiscard]] const std::vector<IdMapRule>& rules() const noexcept { return rules_; }
    [[nodiscard]] bool empty() const noexcept { return rules_.empty(); }

private:
    std::vector<IdMapRule> rules_;
};

/// @brief What IdMap::parse() gave.
struct IdMapParse {
    IdMap map;                          ///< the items that parsed (meaningless on failure)
    std::vector<std::string> messages;  ///< FERROR lines without newline, in upstream's order
    std::optional<IdMapFailure> failure; ///< set when the session must end
};

/// @brief Upstream uidlist.c:recv_add_id's choice of local id for sender id @p id: the
///        map's TO when an item matches; else, for a named non-zero id, the local id of
///        that name when it exists; else @p id unchanged.
/// @param map the session's map, or nullptr without one.
/// @param id the sender's id.
/// @param name the sender's name for it ("" when it sent none, or names are ignored);
///        it ends at its first NUL, as upstream's C string does.
/// @param lookup local name to id.
/// @return the local id.
[[nodiscard]] std::uint32_t resolve_received_id(const IdMap* map, std::uint32_t id, std::string_view name,
                                                const IdNameLookup& lookup);

} // namespace ocr::transfer
