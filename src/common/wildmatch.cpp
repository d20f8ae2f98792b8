// SPDX-License-Identifier: MIT
// rsync-compatible wildcard matching, evaluated right to left so that no input can make it slow.
#include "common/wildmatch.hpp"

#include <optional>
#include <string>
#include <utility>

// How this relates to upstream (lib/wildmatch.c:dowild): upstream recurses once per star run
// and answers with one of four outcomes; two of them (abort everything, abort back to the
// nearest `**`) prune the search. The outcome of "the rest of the pattern after star run k,
// tried from text offset t" depends only on (k, t), and every non-star element consumes exactly
// one byte, so the same four-valued answers can be tabulated for every t, one star run at a
// time from the last to the first. That gives upstream's exact results, including any effect of
// its pruning, with no recursion and at most (#tokens x text length) work.

namespace ocr {

enum class WildPattern::Outcome : std::uint8_t {
    NoMatch,         ///< This alignment fails; an enclosing star may try the next offset.
    Match,           ///< The rest of the pattern matched the rest of the text.
    AbortAll,        ///< The text ran out (or the pattern is malformed): nothing can match.
    AbortToStarStar, ///< A single `*` would have to cross '/': only an outer `**` may go on.
};

namespace {

constexpr unsigned char fold_ascii(unsigned char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

/// The text or pattern as upstream sees it: a C string ends at its first NUL.
std::string_view until_nul(std::string_view s) noexcept
{
    const auto nul = s.find('\0');
    return nul == std::string_view::npos ? s : s.substr(0, nul);
}

// ASCII (C locale) character classes. Upstream uses <ctype.h> in the daemon's locale; for
// bytes above 0x7f that only differs in single-byte non-UTF-8 locales.
bool in_named_class(std::string_view name, unsigned char c, bool& known) noexcept
{
    const bool upper = c >= 'A' && c <= 'Z';
    const bool lower = c >= 'a' && c <= 'z';
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = upper || lower;
    const bool alnum = alpha || digit;
    const bool graph = c >= 0x21 && c <= 0x7e;
    known = true;
    if (name == "alnum")
        return alnum;
    if (name == "alpha")
        return alpha;
    if (name == "blank")
        return c == ' ' || c == '\t';
    if (name == "cntrl")
        return c < 0x20 || c == 0x7f;
    if (name == "digit")
        return digit;
    if (name == "graph")
        return graph;
    if (name == "lower")
        return lower;
    if (name == "print")
        return graph || c == ' ';
    if (name == "punct")
        return graph && !alnum;
    if (name == "space")
        return c == ' ' || (c >= '\t' && c <= '\r');
    if (name == "upper")
        return upper;
    if (name == "xdigit")
        return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    known = false;
    return false;
}

/// Result of parsing one `[...]`: the member set (over folded bytes) and where parsing stopped.
struct ParsedClass {
    std::bitset<256> members;
    bool negated = false;
    std::size_t end = 0; ///< Index just past the closing ']'.
};

// Upstream: lib/wildmatch.c:dowild, case '['. The element list is walked the same way: the first
// element is taken even if it is ']', '-' makes a range only between a previous plain element
// and a following element that is not ']', and "[:" opens a named class only when a ":]" closes
// it before the next ']'. nullopt means upstream would abort the whole match.
std::optional<ParsedClass> parse_class(std::string_view pat, std::size_t open, bool fold)
{
    const auto fold_if = [fold](unsigned char c) { return fold ? fold_ascii(c) : c; };
    const std::size_t m = pat.size();
    ParsedClass out;
    std::size_t k = open + 1;
    if (k < m && (pat[k] == '!' || pat[k] == '^')) {
        out.negated = true;
        ++k;
    }
    unsigned prev = 0; // 0: no element a '-' could start a range from
    for (;;) {
        if (k >= m)
            return std::nullopt;
        const auto pc = static_cast<unsigned char>(pat[k]);
        unsigned cur = 0;
        if (pc == '\\') {
            if (++k >= m)
                return std::nullopt;
            cur = fold_if(static_cast<unsigned char>(pat[k]));
            out.members.set(cur);
        } else if (pc == '-' && prev != 0 && k + 1 < m && pat[k + 1] != ']') {
            auto hi = static_cast<unsigned char>(pat[++k]);
            if (hi == '\\') {
                if (++k >= m)
                    return std::nullopt;
                hi = static_cast<unsigned char>(pat[k]);
            }
            hi = fold_if(hi);
            for (unsigned b = prev; b <= hi; ++b)
                out.members.set(b);
        } else if (pc == '[' && k + 1 < m && pat[k + 1] == ':') {
            const std::size_t name_start = k + 2;
            std::size_t close = name_start;
            while (close < m && pat[close] != ']')
                ++close;
            if (close >= m)
                return std::nullopt;
            if (close == name_start || pat[close - 1] != ':') {
                // No ":]": the '[' is an ordinary element and the walk resumes after it.
                out.members.set('[');
                cur = '[';
            } else {
                const std::string_view name = pat.substr(name_start, close - name_start - 1);
                bool known = false;
                for (unsigned b = 0; b < 256; ++b) {
                    if (in_named_class(name, static_cast<unsigned char>(b), known))
                        out.members.set(b);
                    if (!known)
                        return std::nullopt;
                }
                k = close;
            }
        } else {
            cur = fold_if(pc);
            out.members.set(cur);
        }
        prev = cur;
        ++k;
        if (k < m && pat[k] == ']')
            break;
    }
    out.end = k + 1;
    return out;
}

} // namespace

WildPattern::WildPattern(std::string_view pattern, WildCase wild_case)
    : fold_(wild_case == WildCase::Insensitive)
{
    const std::string_view pat = until_nul(pattern);
    const std::size_t m = pat.size();
    segments_.push_back(Segment{});
    std::size_t i = 0;
    while (i < m) {
        const auto c = static_cast<unsigned char>(pat[i]);
        if (c == '*') {
            std::size_t j = i;
            while (j < m && pat[j] == '*')
                ++j;
            segments_.push_back(Segment{tokens_.size(), 0, j - i >= 2});
            i = j;
            continue;
        }
        Token tok;
        switch (c) {
        case '\\':
            if (i + 1 >= m) {
                tok.kind = Token::Kind::Never;
                i = m;
            } else {
                tok.ch = fold_ ? fold_ascii(static_cast<unsigned char>(pat[i + 1])) :
                                 static_cast<unsigned char>(pat[i + 1]);
                i += 2;
            }
            break;
        case '?':
            tok.kind = Token::Kind::Any;
            ++i;
            break;
        case '[': {
            const auto parsed = parse_class(pat, i, fold_);
            if (!parsed) {
                tok.kind = Token::Kind::Abort;
                i = m;
                break;
            }
            std::bitset<256> accept;
            for (unsigned raw = 0; raw < 256; ++raw) {
                const unsigned f = fold_ ? fold_ascii(static_cast<unsigned char>(raw)) : raw;
                accept[raw] = (parsed->members[f] != parsed->negated) && f != '/';
            }
            tok.kind = Token::Kind::Class;
            tok.index = static_cast<std::uint32_t>(classes_.size());
            classes_.push_back(accept);
            i = parsed->end;
            break;
        }
        default:
            tok.ch = fold_ ? fold_ascii(c) : c;
            ++i;
            break;
        }
        tokens_.push_back(tok);
        ++segments_.back().count;
        // Nothing after an aborting element can ever be reached.
        if (tok.kind == Token::Kind::Abort)
            break;
    }
}

bool WildPattern::token_matches(const Token& tok, unsigned char c) const
{
    switch (tok.kind) {
    case Token::Kind::Literal:
        return (fold_ ? fold_ascii(c) : c) == tok.ch;
    case Token::Kind::Any:
        return c != '/';
    case Token::Kind::Class:
        return classes_[tok.index][c];
    case Token::Kind::Abort:
    case Token::Kind::Never:
        break;
    }
    return false;
}

WildPattern::Outcome WildPattern::run_segment(std::size_t seg, std::string_view text,
                                              std::size_t at,
                                              const std::vector<Outcome>& next_star) const
{
    const Segment& s = segments_[seg];
    for (std::size_t j = 0; j < s.count; ++j) {
        const std::size_t pos = at + j;
        if (pos >= text.size())
            return Outcome::AbortAll;
        const Token& tok = tokens_[s.first + j];
        if (tok.kind == Token::Kind::Abort)
            return Outcome::AbortAll;
        if (!token_matches(tok, static_cast<unsigned char>(text[pos])))
            return Outcome::NoMatch;
    }
    const std::size_t end = at + s.count;
    if (seg + 1 == segments_.size())
        return end == text.size() ? Outcome::Match : Outcome::NoMatch;
    return next_star[end];
}

bool WildPattern::match_text(std::string_view text) const
{
    const std::size_t n = text.size();
    if (segments_.size() == 1)
        return run_segment(0, text, 0, {}) == Outcome::Match;
    if (tokens_.size() > n)
        return false; // every token needs its own byte, so a Match is impossible
    // Cheap rejection before any table is built: the part before the first star is fixed.
    const Segment& head = segments_.front();
    for (std::size_t j = 0; j < head.count; ++j) {
        const Token& tok = tokens_[head.first + j];
        if (tok.kind == Token::Kind::Abort ||
            !token_matches(tok, static_cast<unsigned char>(text[j])))
            return false;
    }

    // Leftmost offset at which star run k can start; rows below it are never read.
    std::vector<std::size_t> min_start(segments_.size(), 0);
    for (std::size_t k = 1; k < segments_.size(); ++k)
        min_start[k] = min_start[k - 1] + segments_[k - 1].count;

    std::vector<Outcome> next(n + 1, Outcome::AbortAll);
    std::vector<Outcome> cur(n + 1, Outcome::AbortAll);
    const std::size_t last = segments_.size() - 1;
    for (std::size_t k = last; k >= 1; --k) {
        const Segment& s = segments_[k];
        if (k == last && s.count == 0) {
            // Upstream: a trailing `**` matches everything left, a trailing `*` anything
            // left that has no '/'.
            bool slash = false;
            for (std::size_t t = n + 1; t-- > min_start[k];) {
                if (t < n && text[t] == '/')
                    slash = true;
                cur[t] = (s.cross_slash || !slash) ? Outcome::Match : Outcome::NoMatch;
            }
        } else {
            // Upstream tries offsets left to right and stops at the first decisive outcome;
            // going right to left, each offset either decides or inherits its right neighbour.
            cur[n] = Outcome::AbortAll;
            for (std::size_t t = n; t-- > min_start[k];) {
                const Outcome r = run_segment(k, text, t, next);
                if (!s.cross_slash) {
                    if (r != Outcome::NoMatch)
                        cur[t] = r;
                    else if (text[t] == '/')
                        cur[t] = Outcome::AbortToStarStar;
                    else
                        cur[t] = cur[t + 1];
                } else if (r == Outcome::Match || r == Outcome::AbortAll) {
                    cur[t] = r;
                } else {
                    cur[t] = cur[t + 1];
                }
            }
        }
        std::swap(cur, next);
    }
    return run_segment(0, text, 0, next) == Outcome::Match;
}

bool WildPattern::matches(std::string_view text) const
{
    return match_text(until_nul(text));
}

bool WildPattern::matches_pieces(std::span<const std::string_view> pieces) const
{
    // Upstream: lib/wildmatch.c:wildmatch_array returns false when given no string at all.
    if (pieces.empty())
        return false;
    if (pieces.size() == 1)
        return matches(pieces.front());
    std::string joined;
    for (const std::string_view piece : pieces)
        joined.append(until_nul(piece));
    return match_text(joined);
}

bool wildmatch(std::string_view pattern, std::string_view text, WildCase wild_case)
{
    return WildPattern(pattern, wild_case).matches(text);
}

bool wildmatch_pieces(std::string_view pattern, std::span<const std::string_view> pieces,
                      WildCase wild_case)
{
    return WildPattern(pattern, wild_case).matches_pieces(pieces);
}

} // namespace ocr
