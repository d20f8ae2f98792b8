// SPDX-License-Identifier: MIT
// Whether one filter rule applies to one name (upstream exclude.c:rule_matches).
#include "transfer/filter_match.hpp"

#include "transfer/filter_path.hpp"

#include <array>
#include <optional>
#include <stdexcept>

namespace ocr::transfer {
namespace {

constexpr std::size_t kMaxPieces = 8;

/// A piece list that can be cut at a byte position without copying text.
struct Pieces {
    std::array<std::string_view, kMaxPieces> v{};
    std::size_t n = 0;

    [[nodiscard]] std::span<const std::string_view> span() const { return {v.data(), n}; }
};

Pieces copy_pieces(std::span<const std::string_view> pieces)
{
    if (pieces.size() > kMaxPieces)
        throw std::invalid_argument("too many text pieces");
    Pieces p;
    for (const std::string_view s : pieces)
        p.v[p.n++] = s;
    return p;
}

/// The text from piece @p k, offset @p off, to the end.
Pieces tail_from(const Pieces& all, std::size_t k, std::size_t off)
{
    Pieces out;
    out.v[out.n++] = all.v[k].substr(off);
    for (std::size_t j = k + 1; j < all.n; ++j)
        out.v[out.n++] = all.v[j];
    return out;
}

/// Upstream lib/wildmatch.c:trailing_N_elements: the text after the @p count-th '/' from the
/// end; the whole text when it has exactly count-1 slashes; nothing when it has fewer.
std::optional<Pieces> trailing_elements(const Pieces& all, int count)
{
    for (std::size_t k = all.n; k-- > 0;) {
        const std::string_view s = all.v[k];
        for (std::size_t off = s.size(); off-- > 0;) {
            if (s[off] == '/' && --count == 0)
                return tail_from(all, k, off + 1);
        }
    }
    if (count == 1)
        return all;
    return std::nullopt;
}

bool literal_equals(std::string_view literal, const Pieces& text)
{
    std::size_t at = 0;
    for (std::size_t k = 0; k < text.n; ++k) {
        const std::string_view s = text.v[k];
        if (s.size() > literal.size() - at || literal.substr(at, s.size()) != s)
            return false;
        at += s.size();
    }
    return at == literal.size();
}

} // namespace

bool wildmatch_array(const WildPattern& pattern, std::span<const std::string_view> pieces,
                     int where)
{
    const Pieces all = copy_pieces(pieces);
    if (where > 0) {
        const auto tail = trailing_elements(all, where);
        return tail && pattern.matches_pieces(tail->span());
    }
    if (all.n == 0)
        return false;
    if (pattern.matches_pieces(all.span()))
        return true;
    if (where == 0)
        return false;
    // Floating "**" pattern: also try every position just after a '/'.
    for (std::size_t k = 0; k < all.n; ++k) {
        const std::string_view s = all.v[k];
        for (std::size_t off = 0; off < s.size(); ++off) {
            if (s[off] == '/' && pattern.matches_pieces(tail_from(all, k, off + 1).span()))
                return true;
        }
    }
    return false;
}

bool litmatch_array(std::string_view literal, std::span<const std::string_view> pieces, int where)
{
    const Pieces all = copy_pieces(pieces);
    if (where > 0) {
        const auto tail = trailing_elements(all, where);
        return tail && literal_equals(literal, *tail);
    }
    if (all.n == 0)
        return false;
    return literal_equals(literal, all);
}

bool rule_applies(const FilterRule& rule, std::string_view name, NameKind kind,
                  std::string_view cwd)
{
    using namespace rule_flag;
    // Upstream: exclude.c:rule_matches.
    const bool normal = !(rule.flags & Negate);
    const bool name_is_rooted = !name.empty() && name.front() == '/';
    std::string_view nm = name_is_rooted ? name.substr(1) : name;
    if (nm.empty())
        return false;
    if ((kind == NameKind::Xattr) != ((rule.flags & Xattr) != 0))
        return false;

    std::array<std::string_view, 4> strings{};
    std::size_t n = 0;
    if (rule.slash_cnt == 0 && !(rule.flags & Wild2)) {
        // No '/' and no "**": only the last component can match.
        nm = path_basename(nm);
    } else if ((rule.flags & AbsPath) && !name_is_rooted && !cwd.empty()) {
        strings[n++] = cwd;
        strings[n++] = "/";
    } else if ((rule.flags & Wild2Prefix) && !name_is_rooted) {
        // Lets a leading "**/" match at the start of the name.
        strings[n++] = "/";
    }
    strings[n++] = nm;
    if (kind == NameKind::Dir) {
        // Lets a trailing "/***" match the directory itself.
        if (rule.flags & Wild3Suffix)
            strings[n++] = "/";
    } else if (rule.flags & Directory) {
        return !normal;
    }

    std::string_view pattern = rule.pattern;
    const bool anchored = !pattern.empty() && pattern.front() == '/';
    if (anchored)
        pattern.remove_prefix(1);

    int where = 0;
    if (!anchored && rule.slash_cnt && !(rule.flags & Wild2))
        where = static_cast<int>(rule.slash_cnt) + 1;
    else if (!anchored && !(rule.flags & Wild2Prefix) && (rule.flags & Wild2))
        where = -1;

    const std::span<const std::string_view> pieces(strings.data(), n);
    bool hit = false;
    if (rule.flags & Wild) {
        hit = rule.wild && wildmatch_array(*rule.wild, pieces, where);
    } else if (n > 1) {
        hit = litmatch_array(pattern, pieces, where);
    } else if (anchored) {
        hit = nm == pattern;
    } else {
        // The pattern must be a whole trailing part of the name, starting after a '/'.
        hit = pattern.size() <= nm.size() && nm.ends_with(pattern)
              && (pattern.size() == nm.size() || nm[nm.size() - pattern.size() - 1] == '/');
    }
    return hit ? normal : !normal;
}

} // namespace ocr::transfer
