// SPDX-License-Identifier: MIT
// Fuzz target: filter rule text (module rules, client options, merge files) and a walk that
// pushes and pops directories while checking names, with round-trip checks of the parser.
#include "transfer/filter_client.hpp"
#include "transfer/filter_daemon.hpp"
#include "transfer/filter_set.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace {

using namespace ocr::transfer;

[[noreturn]] void fail()
{
    __builtin_trap();
}

/// Files named by "@path=content" lines ("\n" in the content is written as '|').
class FuzzFiles final : public FilterFileSource {
public:
    std::map<std::string, std::string, std::less<>> files;

    FilterFileRead read_module_file(std::string_view path, std::size_t max) override
    {
        // The engine promises resolved module paths.
        if (path.empty() || path.front() == '/' || path.find("//") != std::string_view::npos)
            fail();
        for (std::size_t i = 0; i <= path.size();) {
            const std::size_t j = std::min(path.find('/', i), path.size());
            const std::string_view c = path.substr(i, j - i);
            if (c == "." || c == "..")
                fail();
            i = j + 1;
        }
        return read(path, max);
    }
    FilterFileRead read_operator_file(std::string_view path, std::size_t max) override
    {
        return read(path, max);
    }

private:
    FilterFileRead read(std::string_view path, std::size_t max)
    {
        const auto it = files.find(path);
        if (it == files.end())
            return {std::nullopt, ENOENT};
        if (it->second.size() > max)
            return {std::nullopt, EFBIG};
        return {it->second, 0};
    }
};

/// Parsing the canonical text of a token must give the same token back.
void check_round_trip(std::string_view line)
{
    std::size_t pos = 0;
    std::optional<RuleToken> tok;
    try {
        tok = parse_rule_token(line, pos, 0, 0, {});
    } catch (const FilterError&) {
        return;
    }
    if (!tok || tok->pattern.empty() || (tok->flags & rule_flag::ClearList))
        return;
    const std::string again = rule_prefix(tok->flags) + std::string(tok->pattern);
    std::size_t pos2 = 0;
    const auto tok2 = parse_rule_token(again, pos2, 0, 0, {});
    if (!tok2 || tok2->pattern != tok->pattern || tok2->flags != tok->flags)
        fail();
}

} // namespace

// Input: one options byte, then lines. "@path=content" defines a file, "#rules" a module
// "filter" value, "%path" a module "exclude from" file, "~dir" the transfer root, ">dir"
// enters a directory, "<" leaves one, "?name" / "/name" checks a file / directory name,
// "&kind text" an option rule (kind e/i/E/I), anything else a client rule.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const unsigned flags = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

    FilterOptions opt;
    opt.role = (flags & 1) ? FilterSide::Receiver : FilterSide::Sender;
    opt.delete_excluded = (flags & 2) != 0;
    opt.eol_nulls = (flags & 4) != 0;
    opt.module_chroot = (flags & 8) != 0;
    opt.home_dir = (flags & 16) ? "/home" : "";
    if (flags & 32)
        opt.cvsignore_env = "*.env junk";
    opt.protocol_version = (flags & 64) ? 29 : 32;
    opt.limits.max_rules = 4096;
    opt.limits.max_merge_file_bytes = 4096;
    opt.limits.max_dir_merges = 16;

    FuzzFiles files;
    ModuleFilterConfig module;
    std::vector<std::string_view> lines;
    while (!rest.empty()) {
        const std::size_t nl = std::min(rest.find('\n'), rest.size());
        lines.push_back(rest.substr(0, nl));
        rest.remove_prefix(std::min(nl + 1, rest.size()));
    }
    for (const std::string_view line : lines) {
        if (line.starts_with('@')) {
            const std::size_t eq = line.find('=');
            if (eq == std::string_view::npos)
                continue;
            std::string content(line.substr(eq + 1));
            for (char& c : content) {
                if (c == '|')
                    c = '\n';
            }
            files.files[std::string(line.substr(1, eq - 1))] = std::move(content);
        } else if (line.starts_with('#')) {
            module.filter = line.substr(1);
        } else if (line.starts_with('%')) {
            module.exclude_from = line.substr(1);
        }
    }

    FilterSet set(opt, files);
    try {
        load_module_filters(set, module);
        for (const std::string_view line : lines) {
            if (line.empty())
                continue;
            switch (line.front()) {
            case '@':
            case '#':
            case '%':
                break;
            case '~':
                set.set_transfer_root(line.substr(1));
                break;
            case '>':
                set.push_dir(line.substr(1));
                break;
            case '<':
                if (set.dir_depth() > 0)
                    set.pop_dir();
                break;
            case '?':
            case '/': {
                const bool is_dir = line.front() == '/';
                const std::string_view name = line.substr(1);
                const Exclusion ex = set.excluded(name, is_dir);
                // The combined answer must agree with the two lists' own answers.
                const bool daemon = set.daemon_excluded(name, is_dir);
                if ((ex == Exclusion::Daemon) != daemon)
                    fail();
                if (!daemon && (ex == Exclusion::Client)
                                   != (set.client_list().check(name, is_dir, opt.role)
                                       == Verdict::Exclude))
                    fail();
                (void)set.excluded(name, NameKind::Xattr, true);
                (void)set.daemon_excludes_path(name, true);
                break;
            }
            case '&': {
                if (line.size() < 2)
                    break;
                const char k = line[1];
                const std::string_view text = line.substr(std::min<std::size_t>(3, line.size()));
                const OptionRuleKind kind = k == 'e'   ? OptionRuleKind::Exclude
                                            : k == 'i' ? OptionRuleKind::Include
                                            : k == 'E' ? OptionRuleKind::ExcludeFrom
                                            : k == 'I' ? OptionRuleKind::IncludeFrom
                                                       : OptionRuleKind::Filter;
                add_option_rule(set, kind, text, (flags & 128) ? 4 : 0);
                break;
            }
            default:
                check_round_trip(line);
                set.add_client_rules(line, 0, (flags & 64) ? ocr::transfer::xflag::OldPrefixes : 0);
                break;
            }
        }
        while (set.dir_depth() > 0)
            set.pop_dir();
    } catch (const FilterError&) {
        // A rule error ends a real session; nothing else may escape.
    }
    (void)set.take_messages();
    return 0;
}
