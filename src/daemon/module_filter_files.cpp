// SPDX-License-Identifier: MIT
// Facts from upstream: clientserver.c:rsync_module (which settings are parsed, in which
// order, with XFLG_FATAL_ERRORS for the "from" files), exclude.c:parse_filter_str and
// parse_rule_tok (merge rules, word splitting), exclude.c:parse_filter_file (the check of
// a file against the rules so far, and the fatal "failed to open" exit).
#include "daemon/module_filter_files.hpp"

#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "daemon/upstream_text.hpp"
#include "protocol/exit_code.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace ocr::daemon {
namespace {

// Upstream's exit after a fatal filter-file error (exclude.c:parse_filter_file).
constexpr UpstreamSite kSiteFilterFileOpen{"exclude.c", 1719};

// The name as upstream's clean_fname() would leave it: no empty, "." or ".." components
// and no trailing slash. Only such names are checked (the worker handles the rest).
bool canonical_absolute(const std::string& path)
{
    if (path.size() < 2 || path.front() != '/' || path.back() == '/')
        return false;
    for (const std::string& part : split(std::string_view(path).substr(1), '/'))
        if (part.empty() || part == "." || part == "..")
            return false;
    return true;
}

std::vector<std::string> open_failure(const std::string& path, bool include, int err)
{
    // Upstream who_am_i() before the transfer's roles are set is "Receiver".
    std::string first = std::string("rsync: [Receiver] failed to open ") + (include ? "in" : "ex") + "clude file " +
                        path + ": " + std::strerror(err) + " (" + std::to_string(err) + ")";
    std::string second = rsync_error_line(protocol::to_int(protocol::ExitCode::FileIo), kSiteFilterFileOpen,
                                          UpstreamRole::Receiver);
    while (!second.empty() && second.back() == '\n')
        second.pop_back();
    return {std::move(first), std::move(second)};
}

// One fatal file: nullopt when it opens or when its failure may be the front-end's own.
std::optional<std::vector<std::string>> check_file(const std::string& path, bool include, const FileOpenProbe& probe)
{
    if (!canonical_absolute(path))
        return std::nullopt;
    const int err = probe(path);
    if (err == 0 || err == EACCES || err == EPERM)
        return std::nullopt;
    return open_failure(path, include, err);
}

// A merge rule's prefix word: "merge" or "." with at most the modifiers '+' or '-'
// ("merge,-", ".+"). nullopt: not such a rule; else whether it merges include rules.
std::optional<bool> merge_prefix(std::string_view word)
{
    std::string_view mods;
    if (word.starts_with("merge")) {
        mods = word.substr(5);
        if (!mods.empty()) {
            if (mods.front() != ',')
                return std::nullopt;
            mods.remove_prefix(1);
        }
    } else if (word.starts_with(".")) {
        mods = word.substr(1);
        if (mods.starts_with(","))
            mods.remove_prefix(1);
    } else {
        return std::nullopt;
    }
    if (mods.empty())
        return false;
    if (mods == "+")
        return true;
    if (mods == "-")
        return false;
    return std::nullopt;
}

} // namespace

int probe_open_for_reading(const std::string& path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    return fd ? 0 : errno;
}

std::optional<std::vector<std::string>> check_module_filter_files(const ModuleSettings& module,
                                                                  const FileOpenProbe& probe)
{
    // "filter": only a leading merge rule can be judged; after any rule, upstream first
    // matches a file's name against the rules so far, which this check does not repeat.
    const std::vector<std::string> words = split_ws(module.filter);
    if (!words.empty()) {
        const std::optional<bool> include = merge_prefix(words[0]);
        if (include && words.size() >= 2) {
            if (auto failed = check_file(words[1], *include, probe))
                return failed;
        }
        return std::nullopt;
    }
    if (!trim(module.include_from).empty()) {
        if (auto failed = check_file(module.include_from, true, probe))
            return failed;
        return std::nullopt; // the file may have added rules
    }
    if (!split_ws(module.include).empty())
        return std::nullopt;
    if (!trim(module.exclude_from).empty())
        return check_file(module.exclude_from, false, probe);
    return std::nullopt;
}

} // namespace ocr::daemon
