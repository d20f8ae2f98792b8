// SPDX-License-Identifier: MIT
// "refuse options" matching against the option table (upstream options.c:set_refuse_options).
#include "daemon/refuse_options.hpp"

#include "common/wildmatch.hpp"
#include "daemon/option_table.hpp"

namespace ocr::daemon {
namespace {

// Upstream: options.c:refuse_const_assign. A row "stores a constant" when it has a
// destination and is either a plain value row or a no-argument row without an action
// (which stores 1). Bit-set rows do not count: upstream compares the full argInfo.
std::optional<int> constant_stored(const OptionSpec& op)
{
    if (op.var == OptVar::None)
        return std::nullopt;
    if (op.kind == ArgKind::Val)
        return op.val;
    if (op.kind == ArgKind::None && op.val == 0)
        return 1;
    return std::nullopt;
}

// Upstream: options.c:same_refuse_action. An exact refuse word names a capability, so every
// spelling of it ("del" and "delete-during", "cc" and "checksum-choice") is refused together.
bool same_capability(const OptionSpec& a, const OptionSpec& b)
{
    const auto ca = constant_stored(a);
    const auto cb = constant_stored(b);
    if (ca && cb)
        return a.var == b.var && *ca == *cb;
    if (a.kind != b.kind || a.val != b.val)
        return false;
    if (a.var != OptVar::None)
        return a.var == b.var;
    return b.var == OptVar::None && a.val != 0;
}

bool has_wild_chars(std::string_view s)
{
    return s.find_first_of("*?[") != std::string_view::npos;
}

class RefuseMarker {
public:
    explicit RefuseMarker(RefuseSet& set) : set_(set), table_(option_table()) {}

    // Upstream: options.c:parse_one_refuse_match.
    void apply(bool negated, std::string_view word)
    {
        bool wild = has_wild_chars(word);
        if (word == "a" || word == "archive") {
            // Refusing -a by name refuses each of the options it implies (3.2.0+).
            word = "[ardlptgoD]";
            wild = true;
        }
        const WildPattern pattern(word);
        std::optional<std::size_t> matched;
        bool found = false;
        for (std::size_t i = 0; i < table_.size(); ++i) {
            const OptionSpec& op = table_[i];
            const char short_text[1] = {op.short_name};
            const bool hit = (!op.long_name.empty() && pattern.matches(op.long_name))
                || (op.short_name != '\0' && pattern.matches(std::string_view(short_text, 1)));
            if (!hit)
                continue;
            if (!op.refuse_exact_only || !wild)
                set_.refused[i] = !negated;
            found = true;
            if (!wild) {
                matched = i;
                break;
            }
        }
        if (matched) {
            for (std::size_t i = 0; i < table_.size(); ++i) {
                if (i != *matched && same_capability(table_[i], table_[*matched]))
                    set_.refused[i] = !negated;
            }
        }
        if (!found)
            set_.unmatched.emplace_back(word);
    }

private:
    RefuseSet& set_;
    std::span<const OptionSpec> table_;
};

// Upstream: the last loop of options.c:set_refuse_options, which remembers the refused rows
// that the parser must report when an option implies them.
void note_implied_rows(RefuseSet& set)
{
    const auto table = option_table();
    for (std::size_t i = 0; i < table.size(); ++i) {
        if (!set.refused[i])
            continue;
        const OptionSpec& op = table[i];
        switch (op.short_name) {
        case 'r': case 'd': case 'l': case 'p':
        case 't': case 'g': case 'o': case 'D':
            set.archive_part = i;
            break;
        case 'z':
            set.compress = i;
            break;
        case '\0':
            if (op.long_name == "delete")
                set.delete_ = i;
            else if (op.long_name == "delete-before")
                set.delete_before = i;
            else if (op.long_name == "delete-during")
                set.delete_during = i;
            else if (op.long_name == "partial")
                set.partial = i;
            else if (op.long_name == "progress")
                set.progress = i;
            else if (op.long_name == "inplace")
                set.inplace = i;
            else if (op.long_name == "no-iconv")
                set.no_iconv = i;
            break;
        default:
            break;
        }
    }
}

} // namespace

bool RefuseSet::is_refused(std::size_t row) const noexcept
{
    return row < refused.size() && refused[row];
}

bool RefuseSet::is_refused(std::string_view long_name) const noexcept
{
    const auto row = find_long_option(long_name);
    return row && is_refused(*row);
}

bool RefuseSet::is_refused_short(char c) const noexcept
{
    const auto row = find_short_option(c);
    return row && is_refused(*row);
}

RefuseSet no_refusals()
{
    RefuseSet set;
    set.refused.assign(option_table().size(), false);
    return set;
}

RefuseSet parse_refuse_options(std::string_view refuse_value, const RefuseContext& ctx)
{
    RefuseSet set = no_refusals();
    RefuseMarker marker(set);

    // Refused by default, but a later "!copy-devices" / "!write-devices" may accept them.
    marker.apply(false, "copy-devices");
    marker.apply(false, "write-devices");

    // Upstream splits on the space character only; a tab stays part of a word.
    std::size_t pos = 0;
    while (pos < refuse_value.size()) {
        if (refuse_value[pos] == ' ') {
            ++pos;
            continue;
        }
        std::size_t end = refuse_value.find(' ', pos);
        if (end == std::string_view::npos)
            end = refuse_value.size();
        std::string_view word = refuse_value.substr(pos, end - pos);
        const bool negated = word.front() == '!';
        if (negated && word.size() > 1)
            word.remove_prefix(1);
        marker.apply(negated, word);
        pos = end;
    }

    // These come after the module's words, so "!name" cannot accept them.
    if (ctx.features.iconv && !ctx.charset_set)
        marker.apply(false, "iconv");
    marker.apply(false, "log-file*");
    marker.apply(false, "insecure-links");

    if (!ctx.features.atimes)
        marker.apply(false, "atimes");
    if (!ctx.features.hard_links)
        marker.apply(false, "link-dest");
    if (!ctx.features.mktime)
        marker.apply(false, "stop-at");
    if (!ctx.features.iconv)
        marker.apply(false, "iconv");
    if (!ctx.features.setvbuf)
        marker.apply(false, "outbuf");
    if (!ctx.features.crtimes)
        marker.apply(false, "crtimes");

    note_implied_rows(set);
    return set;
}

std::string refuse_error_text(std::size_t row)
{
    const auto table = option_table();
    if (row >= table.size())
        return {};
    const OptionSpec& op = table[row];
    std::string text = "The server is configured to refuse --";
    // Upstream prints a NULL long name with "%s", which glibc renders as "(null)".
    text += op.long_name.empty() ? std::string_view("(null)") : op.long_name;
    if (op.short_name != '\0') {
        text += " (-";
        text += op.short_name;
        text += ')';
    }
    return text;
}

} // namespace ocr::daemon
