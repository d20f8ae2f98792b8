// SPDX-License-Identifier: MIT
// Cutting rule tokens out of filter strings, with upstream's prefixes, modifiers and errors.
#include "transfer/filter_rule.hpp"

#include "transfer/filter_error.hpp"

#include <array>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;

/// The byte at @p i of a NUL-terminated view of @p text (0 past the end).
char at(std::string_view text, std::size_t i) noexcept
{
    return i < text.size() ? text[i] : '\0';
}

/// A long rule name and the short rule character it stands for.
struct LongName {
    std::string_view word;
    char rule;
};

// Upstream: exclude.c:parse_rule_tok (the switch on the first character).
constexpr std::array<LongName, 9> kLongNames{{
    {"clear", '!'},
    {"dir-merge", ':'},
    {"exclude", '-'},
    {"hide", 'H'},
    {"include", '+'},
    {"merge", '.'},
    {"protect", 'P'},
    {"risk", 'R'},
    {"show", 'S'},
}};

/// Matches a long rule name at @p i. A name must be followed by white space, '_', the end
/// or ',' (which then introduces modifiers). On success returns the index the modifier scan
/// continues from: the name's last character, or the ',' (upstream rule_strcmp()).
std::optional<std::size_t> match_long_name(std::string_view text, std::size_t i,
                                           std::string_view word)
{
    if (text.substr(i, word.size()) != word)
        return std::nullopt;
    const char next = at(text, i + word.size());
    if (is_c_space(next) || next == '_' || next == '\0')
        return i + word.size() - 1;
    if (next == ',')
        return i + word.size();
    return std::nullopt;
}

[[noreturn]] void syntax_error(std::string_view what, std::string_view shown)
{
    std::string msg(what);
    msg += ": ";
    msg += shown;
    throw FilterError(ExitCode::Syntax, msg);
}

} // namespace

std::optional<RuleToken> parse_rule_token(std::string_view text, std::size_t& pos,
                                          RuleFlags template_flags, XFlags xflags,
                                          const RuleTokenContext& ctx)
{
    using namespace rule_flag;
    // Everything past a NUL is invisible, as in upstream's C strings.
    if (const auto nul = text.find('\0'); nul != std::string_view::npos)
        text = text.substr(0, nul);
    std::size_t i = pos;
    if (template_flags & WordSplit) {
        while (i < text.size() && is_c_space(text[i]))
            ++i;
        pos = i;
    }
    if (i >= text.size())
        return std::nullopt;
    const std::size_t start = i;
    // Error messages show the rest of the string from the rule's start, unless it is file
    // content (Upstream: exclude.c:rule_text).
    const std::string_view shown = ctx.in_file ? ctx.redacted_text : text.substr(start);

    RuleFlags flags = template_flags & FromContainer;
    if (ctx.in_file)
        flags |= FromFile;

    if (template_flags & NoPrefixes) {
        // Only a CVS-style file may clear the list; whether "!" is one is decided below.
        if (text[i] == '!' && (template_flags & CvsIgnore))
            flags |= ClearList;
    } else if (xflags & xflag::OldPrefixes) {
        if (text[i] == '-' && at(text, i + 1) == ' ') {
            flags &= ~Include;
            i += 2;
        } else if (text[i] == '+' && at(text, i + 1) == ' ') {
            flags |= Include;
            i += 2;
        } else if (text[i] == '!') {
            flags |= ClearList;
        }
    } else {
        char rule = 0;
        bool side_from_rule = false;
        bool known = true;
        const char first = text[i];
        bool long_form = false;
        for (const LongName& ln : kLongNames) {
            if (ln.word.front() != first)
                continue;
            long_form = true;
            if (auto next = match_long_name(text, i, ln.word)) {
                i = *next;
                rule = ln.rule;
            } else {
                known = false;
            }
            break;
        }
        if (!long_form) {
            rule = first;
            if (at(text, i + 1) == ',')
                ++i;
        }
        if (known) {
            switch (rule) {
            case ':':
                flags |= PerDirMerge | FinishSetup | MergeFile;
                break;
            case '.':
                flags |= MergeFile;
                break;
            case '+':
                flags |= Include;
                break;
            case '-':
                break;
            case 'S':
                flags |= Include | SenderSide;
                side_from_rule = true;
                break;
            case 'H':
                flags |= SenderSide;
                side_from_rule = true;
                break;
            case 'R':
                flags |= Include | ReceiverSide;
                side_from_rule = true;
                break;
            case 'P':
                flags |= ReceiverSide;
                side_from_rule = true;
                break;
            case '!':
                flags |= ClearList;
                break;
            default:
                known = false;
                break;
            }
        }
        if (!known)
            syntax_error("Unknown filter rule", shown);

        // Modifiers run up to a space, an underscore or the end.
        // Upstream: exclude.c:parse_rule_tok.
        while (rule != '!') {
            ++i;
            const char c = at(text, i);
            if (c == '\0' || c == ' ' || c == '_')
                break;
            if ((template_flags & WordSplit) && is_c_space(c)) {
                --i;
                break;
            }
            bool ok = true;
            switch (c) {
            case '-':
            case '+':
                ok = (flags & MergeFile) && !(flags & NoPrefixes);
                flags |= NoPrefixes | (c == '+' ? RuleFlags{Include} : RuleFlags{0});
                break;
            case '/':
                flags |= AbsPath;
                break;
            case '!':
                // Negation belongs to a pattern, so a merge file cannot default to it.
                ok = !(flags & MergeFile);
                flags |= Negate;
                break;
            case 'C':
                ok = !(flags & NoPrefixes) && !side_from_rule;
                flags |= NoPrefixes | WordSplit | NoInherit | CvsIgnore;
                break;
            case 'e':
                ok = (flags & MergeFile) != 0;
                flags |= ExcludeSelf;
                break;
            case 'n':
                ok = (flags & MergeFile) != 0;
                flags |= NoInherit;
                break;
            case 'p':
                flags |= Perishable;
                break;
            case 'r':
                ok = !side_from_rule;
                flags |= ReceiverSide;
                break;
            case 's':
                ok = !side_from_rule;
                flags |= SenderSide;
                break;
            case 'w':
                ok = (flags & MergeFile) != 0;
                flags |= WordSplit;
                break;
            case 'x':
                flags |= Xattr;
                break;
            default:
                ok = false;
                break;
            }
            if (!ok) {
                std::string msg = "invalid modifier";
                if (!ctx.in_file) {
                    msg += " '";
                    msg += c;
                    msg += "' at position " + std::to_string(i - start);
                }
                msg += " in filter rule";
                syntax_error(msg, shown);
            }
        }
        if (i < text.size())
            ++i;
    }

    if (template_flags & Sides) {
        // Sides on both the merge rule and its contents would be ambiguous.
        if (flags & Sides)
            syntax_error("specified-side merge file contains specified-side filter", shown);
        flags |= template_flags & Sides;
    }

    std::size_t len = 0;
    if (template_flags & WordSplit) {
        std::size_t j = i;
        while (j < text.size() && !is_c_space(text[j]))
            ++j;
        len = j - i;
    } else {
        len = i < text.size() ? text.size() - i : 0;
    }

    if (flags & ClearList) {
        if (!(template_flags & NoPrefixes) && !(xflags & xflag::OldPrefixes) && len)
            syntax_error("'!' rule has trailing characters", shown);
        // In the prefix-less modes "!" only clears when it stands alone.
        if (len > 1)
            flags &= ~ClearList;
    } else if (!len && !(flags & CvsIgnore)) {
        syntax_error("unexpected end of filter rule", shown);
    }

    if (ctx.delete_excluded && !(flags & (Sides | MergeFile | PerDirMerge)))
        flags |= SenderSide;

    RuleToken tok;
    tok.flags = flags;
    tok.pattern = i < text.size() ? text.substr(i, len) : std::string_view{};
    pos = i + len;
    return tok;
}

std::string rule_prefix(RuleFlags flags)
{
    using namespace rule_flag;
    // Upstream: exclude.c:get_rule_prefix (not for the wire).
    std::string out;
    if (flags & PerDirMerge)
        out += ':';
    else if (flags & MergeFile)
        out += '.';
    else if (flags & Include)
        out += '+';
    else
        out += '-';
    if (flags & AbsPath)
        out += '/';
    if (flags & Negate)
        out += '!';
    if (flags & CvsIgnore) {
        out += 'C';
    } else {
        if (flags & NoInherit)
            out += 'n';
        if (flags & WordSplit)
            out += 'w';
        if (flags & NoPrefixes)
            out += (flags & Include) ? '+' : '-';
    }
    if (flags & ExcludeSelf)
        out += 'e';
    if (flags & Xattr)
        out += 'x';
    if (flags & SenderSide)
        out += 's';
    if (flags & ReceiverSide)
        out += 'r';
    if (flags & Perishable)
        out += 'p';
    out += ' ';
    return out;
}

} // namespace ocr::transfer
