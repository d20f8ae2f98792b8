// SPDX-License-Identifier: MIT
// The --usermap/--groupmap parser and the receiver's choice of local ids.
#include "transfer/id_map.hpp"

#include "common/wildmatch.hpp"

namespace ocr::transfer {
namespace {

// Upstream uidlist.c line numbers of the exits (for "at uidlist.c(N)").
constexpr int kLineInvalidId = 85;     // id_parse
constexpr int kLineNoColon = 514;      // parse_name_map
constexpr int kLineNoName = 519;
constexpr int kLineInvalidNumber = 529;

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

// Upstream: uidlist.c:id_parse. Its overflow test only compares each step with the
// previous value, so some over-long numbers wrap silently instead of failing; keep that,
// a client can tell the difference.
std::optional<std::uint32_t> parse_id(std::string_view text) noexcept
{
    std::uint32_t num = 0;
    for (const char c : text) {
        if (!is_digit(c))
            return std::nullopt;
        const std::uint32_t next = num * 10u + static_cast<std::uint32_t>(c - '0');
        if (next < num)
            return std::nullopt;
        num = next;
    }
    return num;
}

IdMapFailure invalid_id(std::string_view text)
{
    return IdMapFailure{"Invalid ID number: " + std::string(text), kLineInvalidId};
}

// One "FROM:TO" item (upstream's loop body). Returns a failure, or adds to @p out (and
// maybe a message).
std::optional<IdMapFailure> parse_item(std::string_view item, IdKind kind, const IdNameLookup& lookup,
                                       std::vector<IdMapRule>& out, std::vector<std::string>& messages)
{
    const std::string opt = kind == IdKind::User ? "user" : "group";
    const auto colon = item.find(':');
    if (colon == std::string_view::npos)
        return IdMapFailure{"No colon found in --" + opt + "map: " + std::string(item), kLineNoColon};
    if (colon + 1 == item.size())
        return IdMapFailure{"No name found after colon --" + opt + "map: " + std::string(item), kLineNoName};
    const std::string_view from = item.substr(0, colon);
    const std::string_view to = item.substr(colon + 1);

    IdMapRule rule;
    if (!from.empty() && is_digit(from.front())) {
        const auto dash = from.find('-');
        if (from.find_first_not_of("0123456789-") != std::string_view::npos ||
            (dash != std::string_view::npos &&
             (dash + 1 == from.size() || from.find('-', dash + 1) != std::string_view::npos)))
            return IdMapFailure{"Invalid number in --" + opt + "map: " + std::string(from), kLineInvalidNumber};
        // Upstream parses the upper bound first, and a zero one means "no range".
        std::uint32_t hi = 0;
        if (dash != std::string_view::npos) {
            const auto h = parse_id(from.substr(dash + 1));
            if (!h)
                return invalid_id(from.substr(dash + 1));
            hi = *h;
        }
        const std::string_view lo_text = from.substr(0, dash);
        const auto lo = parse_id(lo_text);
        if (!lo)
            return invalid_id(lo_text);
        rule.match = hi != 0 ? IdMapRule::Match::Range : IdMapRule::Match::Id;
        rule.lo = *lo;
        rule.hi = hi;
    } else {
        rule.match = from.find_first_of("*[?") != std::string_view::npos ? IdMapRule::Match::Wildcard
                                                                         : IdMapRule::Match::Name;
        rule.pattern = std::string(from);
    }

    // Upstream uidlist.c:user_to_uid / group_to_gid with numbers allowed.
    if (to.find_first_not_of("0123456789") == std::string_view::npos) {
        const auto id = parse_id(to);
        if (!id)
            return invalid_id(to);
        rule.to = *id;
    } else {
        const auto id = lookup ? lookup(std::string(to)) : std::nullopt;
        if (!id) {
            messages.push_back("Unknown --" + opt + "map name on receiver: " + std::string(to));
            return std::nullopt;
        }
        rule.to = *id;
    }
    out.push_back(std::move(rule));
    return std::nullopt;
}

bool rule_matches(const IdMapRule& r, std::uint32_t id, std::string_view name)
{
    switch (r.match) {
    case IdMapRule::Match::Wildcard:
        return wildmatch(r.pattern, name);
    case IdMapRule::Match::Name:
        return r.pattern == name;
    case IdMapRule::Match::Range:
        return id >= r.lo && id <= r.hi;
    case IdMapRule::Match::Id:
        return id == r.lo;
    }
    return false;
}

std::string_view c_string(std::string_view s) noexcept
{
    return s.substr(0, s.find('\0'));
}

} // namespace

IdMapParse IdMap::parse(std::string_view spec, IdKind kind, const IdNameLookup& lookup)
{
    IdMapParse result;
    spec = c_string(spec);
    // Upstream walks the items from the last to the first; so do its messages and its
    // first failure. The items themselves keep their written order.
    std::vector<IdMapRule> reversed;
    std::size_t end = spec.size();
    for (;;) {
        const auto comma = end == 0 ? std::string_view::npos : spec.rfind(',', end - 1);
        const std::size_t start = comma == std::string_view::npos ? 0 : comma + 1;
        if (auto failure = parse_item(spec.substr(start, end - start), kind, lookup, reversed, result.messages)) {
            result.failure = std::move(failure);
            return result;
        }
        if (start == 0)
            break;
        end = start - 1;
    }
    result.map.rules_.assign(reversed.rbegin(), reversed.rend());
    return result;
}

std::optional<std::uint32_t> IdMap::find(std::uint32_t id, std::string_view name) const
{
    name = c_string(name);
    for (const IdMapRule& r : rules_)
        if (rule_matches(r, id, name))
            return r.to;
    return std::nullopt;
}

std::uint32_t resolve_received_id(const IdMap* map, std::uint32_t id, std::string_view name,
                                  const IdNameLookup& lookup)
{
    name = c_string(name);
    if (map) {
        if (const auto to = map->find(id, name))
            return *to;
    }
    // Upstream never maps id 0 by name: root stays root unless the map says otherwise.
    if (!name.empty() && id != 0 && lookup) {
        if (const auto local = lookup(std::string(name)))
            return *local;
    }
    return id;
}

} // namespace ocr::transfer
