// SPDX-License-Identifier: MIT
// The --fuzzy basis search: name distance, suffixes, the choice among candidates.
#include "transfer/fuzzy.hpp"

#include <cstring>
#include <sys/stat.h>

namespace ocr::transfer {
namespace {

constexpr std::uint32_t kUnit = 1U << 16;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Upstream util1.c:same_time with both nanosecond parts 0 (as find_fuzzy calls it).
bool same_mtime(std::int64_t a, std::int64_t b, int window)
{
    if (window <= 0)
        return a == b;
    return (a > b ? a - b : b - a) <= window;
}

bool usable(const FuzzyCandidate& c) { return S_ISREG(c.mode) && c.size != 0 && !c.sent; }

} // namespace

std::uint32_t fuzzy_distance(std::string_view s1, std::string_view s2, std::uint32_t upper_limit)
{
    const auto len1 = static_cast<std::uint32_t>(s1.size());
    const auto len2 = static_cast<std::uint32_t>(s2.size());
    // The distance is at least the length difference: no need to compute it when that
    // is already worse than the best so far.
    if ((len1 > len2 ? len1 - len2 : len2 - len1) * kUnit > upper_limit)
        return 0xFFFFU * kUnit + 1;
    if (s1.empty() || s2.empty()) {
        // Every character inserted; upstream sums them as (signed) chars here.
        const std::string_view s = s1.empty() ? s2 : s1;
        std::int32_t cost = 0;
        for (const char c : s)
            cost += static_cast<signed char>(c);
        return static_cast<std::uint32_t>(static_cast<std::int32_t>(s.size()) * static_cast<std::int32_t>(kUnit) + cost);
    }
    // One row of the matrix; a[i2] is the distance of s1[0..i1] to s2[0..i2].
    std::vector<std::uint32_t> a(len2);
    for (std::uint32_t i2 = 0; i2 < len2; ++i2)
        a[i2] = (i2 + 1) * kUnit;
    for (std::uint32_t i1 = 0; i1 < len1; ++i1) {
        const auto c1 = static_cast<unsigned char>(s1[i1]);
        std::uint32_t diag = i1 * kUnit;
        std::uint32_t above = (i1 + 1) * kUnit;
        for (std::uint32_t i2 = 0; i2 < len2; ++i2) {
            const auto c2 = static_cast<unsigned char>(s2[i2]);
            const std::uint32_t left = a[i2];
            std::int32_t cost = static_cast<std::int32_t>(c1) - static_cast<std::int32_t>(c2);
            if (cost != 0)
                cost = cost < 0 ? static_cast<std::int32_t>(kUnit) - cost : static_cast<std::int32_t>(kUnit) + cost;
            const std::uint32_t diag_inc = diag + static_cast<std::uint32_t>(cost);
            const std::uint32_t left_inc = left + kUnit + c1;
            const std::uint32_t above_inc = above + kUnit + c2;
            above = left < above ? (left_inc < diag_inc ? left_inc : diag_inc)
                                 : (above_inc < diag_inc ? above_inc : diag_inc);
            a[i2] = above;
            diag = left;
        }
    }
    return a[len2 - 1];
}

std::string_view filename_suffix(std::string_view name)
{
    // Indices into the whole name; upstream compares the skipped suffixes with strcmp,
    // that is against everything up to the end of the name (a trailing '~' included).
    std::size_t start = 0;
    while (start < name.size() && name[start] == '.')
        ++start;
    std::size_t len = name.size() - start;
    bool had_tilde = false;
    if (len > 1 && name[start + len - 1] == '~') {
        --len;
        had_tilde = true;
    }
    std::string_view suf;
    std::size_t s = start + len;
    while (len > 1) {
        do
            --s;
        while (name[s] != '.' && s != start);
        if (s == start)
            break;
        std::size_t s_len = start + len - s;
        len = s - start;
        const std::string_view rest = name.substr(s + 1);
        if (s_len == 4) {
            if (rest == "bak" || rest == "old")
                continue;
        } else if (s_len == 5) {
            if (rest == "orig")
                continue;
        } else if (s_len > 2 && had_tilde && name[s + 1] == '~' && is_digit(name[s + 2])) {
            continue;
        }
        suf = name.substr(s, s_len);
        if (s_len == 1)
            break;
        bool all_digits = true;
        for (std::size_t k = s + 1; k < s + s_len; ++k)
            if (!is_digit(name[k])) {
                all_digits = false;
                break;
            }
        if (!all_digits)
            return suf;
        // An all-digit suffix (".1") is weak: keep looking further left.
    }
    return suf;
}

std::optional<FuzzyChoice> choose_fuzzy(std::string_view name, std::int64_t size, std::int64_t mtime,
                                        const std::vector<std::vector<FuzzyCandidate>>& dirs,
                                        int modify_window)
{
    // Upstream generator.c:find_fuzzy. First an exact size+mtime match under any name.
    for (std::size_t i = 0; i < dirs.size(); ++i)
        for (std::size_t j = 0; j < dirs[i].size(); ++j) {
            const FuzzyCandidate& c = dirs[i][j];
            if (usable(c) && c.size == size && same_mtime(c.mtime, mtime, modify_window))
                return FuzzyChoice{i, j};
        }
    const std::string_view suffix = filename_suffix(name);
    std::uint32_t lowest = 25U << 16; // a distance above 25 is no basis
    std::optional<FuzzyChoice> best;
    for (std::size_t i = 0; i < dirs.size(); ++i)
        for (std::size_t j = 0; j < dirs[i].size(); ++j) {
            const FuzzyCandidate& c = dirs[i][j];
            if (!usable(c))
                continue;
            std::uint32_t dist = fuzzy_distance(c.name, name, lowest);
            // The suffixes count ten-fold, unless the name is already out of the running.
            if (dist < 0xFFFF0000U)
                dist += fuzzy_distance(filename_suffix(c.name), suffix, 0xFFFF0000U) * 10;
            if (dist <= lowest) {
                lowest = dist;
                best = FuzzyChoice{i, j};
            }
        }
    return best;
}

} // namespace ocr::transfer
