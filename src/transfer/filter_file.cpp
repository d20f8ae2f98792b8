// SPDX-License-Identifier: MIT
// Reading filter files: merge-file names, the daemon-filter gate, lines, and provenance.
#include "transfer/filter_path.hpp"
#include "transfer/filter_set.hpp"

#include <cstring>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;

/// Upstream MAX_MERGE_DEPTH: merge files nested deeper than this are refused.
constexpr int kMaxMergeDepth = 32;
/// Upstream reads file lines into a BIGPATHBUFLEN (MAXPATHLEN + 1024) buffer.
constexpr std::size_t kMaxLineLen = kMaxPathLen + 1024 - 1;

/// Restores the merge depth however parse_file() is left.
class DepthGuard {
public:
    explicit DepthGuard(int& depth) : depth_(depth) { ++depth_; }
    ~DepthGuard() { --depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

private:
    int& depth_;
};

} // namespace

bool FilterSet::text_from_file(RuleFlags template_flags) const noexcept
{
    // Upstream: exclude.c TEXT_FROM_FILE().
    return src_.in_file || (template_flags & rule_flag::FromFile) != 0;
}

std::string FilterSet::where() const
{
    // Upstream: exclude.c:rule_src_where.
    if (!src_.file) {
        if (!src_.named_at)
            return "a file read earlier";
        return "a file named at " + *src_.named_at;
    }
    if (src_.line < 0)
        return *src_.file;
    return *src_.file + " line " + std::to_string(src_.line);
}

std::string FilterSet::rule_text(RuleFlags template_flags, std::string_view text) const
{
    // A file's contents are chosen by whoever wrote the file, possibly the peer: say where
    // the text is instead of echoing it. Upstream: exclude.c:rule_text.
    if (!text_from_file(template_flags))
        return std::string(text);
    return "<rule from " + where() + ">";
}

std::optional<std::string> FilterSet::merge_name(RuleFlags rule_flags, std::string_view name)
{
    // Upstream: exclude.c:parse_merge_name, with every path module-relative: the result is
    // either the bare name (no '/': resolved later against the reading directory or the
    // transfer root) or "/" + a path from the module root.
    const bool rooted = !name.empty() && name.front() == '/';
    if (!parent_dirscan_ && !rooted && name.find('/') == std::string_view::npos)
        return std::string(name);

    std::string out;
    if (operator_mode_) {
        // The module's own configuration: host paths, relative ones against the module path.
        const std::string_view base = rooted ? std::string_view{} : module_path_;
        out = "/" + resolve_module_path("", std::string(base) + "/" + std::string(name));
    } else {
        out = "/" + resolve_module_path(filter_dir_, name);
    }
    if (out.size() >= kMaxPathLen) {
        message(FilterMessage::Level::Error,
                "merge-file name overflows: " + rule_text(rule_flags, name));
        return std::nullopt;
    }
    return out;
}

bool FilterSet::daemon_hides_file(std::string_view module_path) const
{
    // Upstream 3.5.0 checks the merge file's module-relative name against the daemon list
    // (CVE-2026-53786). Each leading directory is checked too: a client must not read a
    // file inside a directory the module hides.
    if (daemon_.head < 0)
        return false;
    const std::string rooted = "/" + std::string(module_path);
    for (std::size_t slash = rooted.find('/', 1); slash != std::string::npos;
         slash = rooted.find('/', slash + 1)) {
        if (daemon_excluded(std::string_view(rooted).substr(0, slash), true))
            return true;
    }
    return daemon_excluded(rooted, false);
}

void FilterSet::parse_file(ListId list, std::string_view path, RuleFlags template_flags,
                           XFlags xflags)
{
    // Upstream: exclude.c:parse_filter_file.
    if (path.empty())
        return;
    const bool fatal = (xflags & xflag::FatalErrors) != 0;
    if (merge_depth_ >= kMaxMergeDepth) {
        std::string msg = "[" + who_ + "] merge-file include depth limit ("
                          + std::to_string(kMaxMergeDepth) + ") exceeded at "
                          + rule_text(template_flags, path);
        if (fatal)
            throw FilterError(ExitCode::FileIo, msg);
        message(FilterMessage::Level::Error, std::move(msg));
        return;
    }
    DepthGuard depth(merge_depth_);

    FilterFileRead read;
    const std::size_t max = options_.limits.max_merge_file_bytes;
    if (operator_mode_) {
        read = files_->read_operator_file(path, max);
    } else {
        const bool rooted = path.front() == '/';
        const std::string module_path = resolve_module_path(rooted ? "" : cwd_, path);
        // A name the module hides is treated as nonexistent, even under fatal errors, so
        // that neither its content nor its existence leaks.
        if (module_path.empty() || daemon_hides_file(module_path))
            return;
        read = files_->read_module_file(module_path, max);
    }
    if (!read.content) {
        if (!fatal)
            return;
        const char* kind = (template_flags & rule_flag::Include) ? "in" : "ex";
        if (text_from_file(template_flags)) {
            // Neither the name nor errno: both would tell whether the path exists.
            throw FilterError(ExitCode::FileIo, std::string("failed to open ") + kind
                                                    + "clude file "
                                                    + rule_text(template_flags, path));
        }
        const int err = read.error ? read.error : ENOENT;
        throw FilterError(ExitCode::FileIo, "rsync: [" + who_ + "] failed to open "
                                                + std::string(kind) + "clude file "
                                                + std::string(path) + ": "
                                                + std::strerror(err) + " ("
                                                + std::to_string(err) + ")");
    }

    // From here on the text is this file's contents; keep the where, not the what.
    const Provenance saved = src_;
    const bool named_by_file = text_from_file(template_flags);
    if (named_by_file)
        src_.named_at = src_.in_file ? std::optional<std::string>(where()) : std::nullopt;
    src_.in_file = true;
    src_.file = named_by_file ? std::nullopt : std::optional<std::string>(path);
    src_.line = (template_flags & rule_flag::WordSplit) ? -1 : 0;
    try {
        parse_file_content(list, *read.content, template_flags, xflags);
    } catch (...) {
        src_ = saved;
        throw;
    }
    src_ = saved;
}

void FilterSet::parse_file_content(ListId list, const std::string& data,
                                   RuleFlags template_flags, XFlags xflags)
{
    // Upstream: the line loop of exclude.c:parse_filter_file.
    const bool word_split = (template_flags & rule_flag::WordSplit) != 0;
    // The module's own files are read before --from0 is known.
    const bool nul_lines = options_.eol_nulls && !daemon_build_;
    std::size_t i = 0;
    std::string line;
    for (;;) {
        if (src_.line >= 0)
            ++src_.line;
        line.clear();
        bool overflow = false;
        bool at_end = true;
        while (i < data.size()) {
            const char c = data[i++];
            if (word_split && is_c_space(c)) {
                at_end = false;
                break;
            }
            if (nul_lines ? c == '\0' : (c == '\n' || c == '\r')) {
                at_end = false;
                // CRLF is one line end, and a CR at the very end of the file is the end.
                if (c == '\r') {
                    if (i < data.size() && data[i] == '\n')
                        ++i;
                    else if (i >= data.size())
                        at_end = true;
                }
                break;
            }
            if (line.size() < kMaxLineLen)
                line += c;
            else
                overflow = true;
        }
        if (overflow) {
            message(FilterMessage::Level::Error,
                    "discarding over-long filter: <rule from " + where() + ">");
            line.clear();
        }
        // Empty tokens are skipped, and so are comment lines when not word-splitting.
        if (!line.empty() && (word_split || (line.front() != ';' && line.front() != '#')))
            parse_rules(list, line, template_flags, xflags);
        if (at_end)
            break;
    }
}

} // namespace ocr::transfer
