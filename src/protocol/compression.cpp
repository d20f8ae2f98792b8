// SPDX-License-Identifier: MIT
// Which compression a session uses: names, negotiation, levels and the skip-compress lists.
#include "protocol/compression.hpp"

#include "common/strings.hpp"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>

namespace ocr::protocol {

namespace {

struct NamedCompression {
    std::string_view name;
    Compression value;
};

// Upstream: compat.c:valid_compressions_items (same order: the default preference).
constexpr std::array<NamedCompression, 5> kNames{{
    {"zstd", Compression::Zstd},
    {"lz4", Compression::Lz4},
    {"zlibx", Compression::Zlibx},
    {"zlib", Compression::Zlib},
    {"none", Compression::None},
}};

char ascii_lower(char c) noexcept
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Upstream splits negotiation lists on single spaces only (compat.c:parse_negotiate_str).
std::vector<std::string_view> space_tokens(std::string_view list)
{
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos < list.size()) {
        if (list[pos] == ' ') {
            ++pos;
            continue;
        }
        const std::size_t end = std::min(list.find(' ', pos), list.size());
        out.push_back(list.substr(pos, end - pos));
        pos = end;
    }
    return out;
}

// A 1-based rank per algorithm in our list (0 = not offered), like upstream's "saw" array.
using Ranks = std::array<int, kNames.size()>;

Ranks rank_list(std::string_view list)
{
    Ranks ranks{};
    int next = 0;
    for (std::string_view tok : space_tokens(list)) {
        if (auto c = compression_from_name(tok); c && ranks[static_cast<std::size_t>(*c)] == 0)
            ranks[static_cast<std::size_t>(*c)] = ++next;
    }
    return ranks;
}

} // namespace

std::string_view compression_name(Compression c) noexcept
{
    for (const NamedCompression& n : kNames) {
        if (n.value == c)
            return n.name;
    }
    return "UNKNOWN";
}

std::optional<Compression> compression_from_name(std::string_view name) noexcept
{
    for (const NamedCompression& n : kNames) {
        if (iequals(name, n.name))
            return n.value;
    }
    return std::nullopt;
}

std::optional<Compression> choose_compression(std::string_view client_list,
                                              std::string_view our_list, NegotiationRule rule)
{
    const Ranks ours = rank_list(our_list);
    std::optional<Compression> best;
    int best_rank = INT_MAX;
    for (std::string_view tok : space_tokens(client_list)) {
        const auto c = compression_from_name(tok);
        if (!c)
            continue;
        const int rank = ours[static_cast<std::size_t>(*c)];
        if (rank == 0 || rank >= best_rank)
            continue;
        best = c;
        best_rank = rank;
        // Upstream 3.2-3.4 (server side) stopped at the first usable client name; 3.5.0
        // only stops early when nothing can beat the pick.
        if (rule == NegotiationRule::ClientPreference || best_rank == 1)
            break;
    }
    return best;
}

std::optional<Compression> final_compression(std::optional<Compression> negotiated,
                                             std::optional<std::string_view> choice,
                                             bool compressing)
{
    // Upstream: compat.c:parse_compress_choice; options.c clears a choice of "auto".
    if (negotiated)
        return negotiated;
    if (choice && !iequals(*choice, "auto"))
        return compression_from_name(*choice);
    return compressing ? Compression::Zlib : Compression::None;
}

CompressionSetting resolve_compression_level(Compression c, int requested) noexcept
{
    // Upstream: token.c:init_compression_level. "off" is the level that disables compression
    // (zlib's 0); for zstd and lz4 the off level is "unset", which is mapped to the default
    // first, so they can never be switched off this way.
    int min_level = 0;
    int max_level = 0;
    int def_level = 0;
    int level = requested;
    switch (c) {
    case Compression::None:
        return {c, requested};
    case Compression::Zlib:
    case Compression::Zlibx:
        min_level = 1;
        max_level = Z_BEST_COMPRESSION;
        def_level = 6;
        if (level == Z_DEFAULT_COMPRESSION)
            level = def_level;
        if (level == Z_NO_COMPRESSION)
            return {Compression::None, level};
        break;
    case Compression::Zstd:
        min_level = ZSTD_minCLevel();
        max_level = ZSTD_maxCLevel();
        def_level = ZSTD_CLEVEL_DEFAULT;
        if (level == 0)
            level = def_level;
        break;
    case Compression::Lz4:
        break;
    }
    if (level == kCompressLevelUnset)
        level = def_level;
    return {c, std::clamp(level, min_level, max_level)};
}

int skip_compression_level(Compression c) noexcept
{
    // Upstream: token.c:init_compression_level sets skip_compression_level per algorithm.
    return c == Compression::Zstd ? ZSTD_minCLevel() : 0;
}

SkipCompress::SkipCompress(std::string_view dont_compress, std::string_view skip_suffixes)
{
    // Upstream: token.c:add_nocompress_suffixes. Suffixes are lower-cased and cut to 32 bytes
    // (upstream's guard against deep recursion; kept so both accept the same lists).
    for (std::string_view word : split(skip_suffixes, '/')) {
        if (word.empty())
            continue;
        add_suffix(to_lower(word.substr(0, std::min<std::size_t>(word.size(), 32))));
    }
    // Upstream: token.c:init_set_compression.
    for (std::string_view word : space_tokens(dont_compress)) {
        const std::string lowered = to_lower(word);
        if (lowered == "*") {
            // Everything is skipped: upstream drops the other rules, the suffixes included.
            all_ = true;
            patterns_.clear();
            suffixes_.clear();
            return;
        }
        if (lowered.size() > 2 && lowered.starts_with("*.") &&
            lowered.find_first_of(".?*", 2) == std::string::npos) {
            add_suffix(std::string_view(lowered).substr(2));
            continue;
        }
        patterns_.emplace_back(lowered, WildCase::Insensitive);
    }
}

void SkipCompress::add_suffix(std::string_view lowered)
{
    // Upstream: token.c:add_suffix. "[abc]" is a class of letters for one position, except
    // that "[x]" (one letter) and a '[' without a later ']' stand for a literal '['; "[]"
    // is an empty class, so the rule can never match.
    Suffix rule;
    std::size_t i = 0;
    while (i < lowered.size()) {
        std::bitset<256> set;
        if (lowered[i] == '[') {
            const std::string_view rest = lowered.substr(i + 1);
            const std::size_t close = rest.find(']');
            if (close != std::string_view::npos && close != 1) {
                for (char ch : rest.substr(0, close))
                    set.set(static_cast<unsigned char>(ch));
                rule.push_back(set);
                i += close + 2;
                continue;
            }
        }
        set.set(static_cast<unsigned char>(lowered[i]));
        rule.push_back(set);
        ++i;
    }
    if (!rule.empty())
        suffixes_.push_back(std::move(rule));
}

bool SkipCompress::matches(std::string_view path) const
{
    // Upstream: the disabled body of token.c:set_compression.
    if (all_)
        return true;
    const std::size_t slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    for (const WildPattern& p : patterns_) {
        if (p.matches(name))
            return true;
    }
    const std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size())
        return false;
    const std::string_view ext = name.substr(dot + 1);
    for (const Suffix& rule : suffixes_) {
        if (rule.size() != ext.size())
            continue;
        bool ok = true;
        for (std::size_t k = 0; k < ext.size() && ok; ++k)
            ok = rule[k].test(static_cast<unsigned char>(ascii_lower(ext[k])));
        if (ok)
            return true;
    }
    return false;
}

} // namespace ocr::protocol
