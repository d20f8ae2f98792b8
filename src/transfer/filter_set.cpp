// SPDX-License-Identifier: MIT
// The filter engine's rule store, rule parsing into lists, and first-match checking.
#include "transfer/filter_set.hpp"

#include "transfer/filter_cvs.hpp"
#include "transfer/filter_path.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;

/// Deepest nesting of per-directory lists a check may walk (each dir-merge list can hold
/// dir-merge rules of its own); FilterLimits::max_dir_merges keeps real sets far below it.
constexpr int kMaxCheckDepth = 1024;

RuleFlags side_bit(FilterSide side) noexcept
{
    return side == FilterSide::Sender ? rule_flag::SenderSide : rule_flag::ReceiverSide;
}

} // namespace

// --- Construction and list access. ------------------------------------------------------------

FilterSet::FilterSet(FilterOptions options, FilterFileSource& files)
    : options_(std::move(options)), files_(&files)
{
    who_ = options_.who;
    if (who_.empty())
        who_ = options_.role == FilterSide::Sender ? "sender" : "Receiver";
}

FilterSet::~FilterSet() = default;

FilterList FilterSet::daemon_list() const
{
    return FilterList(*this, kDaemonList, false);
}

FilterList FilterSet::client_list() const
{
    return FilterList(*this, kClientList, true);
}

FilterSet::Chain& FilterSet::chain_of(ListId list)
{
    return const_cast<Chain&>(std::as_const(*this).chain_of(list));
}

const FilterSet::Chain& FilterSet::chain_of(ListId list) const
{
    switch (list) {
    case kDaemonList:
        return daemon_;
    case kClientList:
        return client_;
    case kCvsList:
        return cvs_;
    default:
        break;
    }
    if (list < 0 || static_cast<std::size_t>(list) >= slots_.size())
        throw std::logic_error("filter list id out of range");
    return slots_[static_cast<std::size_t>(list)].chain;
}

// --- The node store. --------------------------------------------------------------------------

std::int32_t FilterSet::new_node()
{
    if (live_nodes_ >= options_.limits.max_rules) {
        throw FilterError(ExitCode::Malloc, "[" + who_ + "] too many filter rules (limit "
                                                + std::to_string(options_.limits.max_rules)
                                                + ")");
    }
    std::int32_t id;
    if (!free_nodes_.empty()) {
        id = free_nodes_.back();
        free_nodes_.pop_back();
    } else {
        id = static_cast<std::int32_t>(nodes_.size());
        nodes_.emplace_back();
    }
    Node& n = nodes_[static_cast<std::size_t>(id)];
    n = Node{};
    n.live = true;
    ++live_nodes_;
    return id;
}

void FilterSet::append(ListId list, std::int32_t node)
{
    // Upstream: exclude.c:add_rule (the end): a new rule goes after this level's last own
    // rule, in front of whatever is inherited.
    Chain& c = chain_of(list);
    Node& n = nodes_[static_cast<std::size_t>(node)];
    if (c.tail < 0) {
        n.next = c.head;
        c.head = c.tail = node;
    } else {
        Node& t = nodes_[static_cast<std::size_t>(c.tail)];
        n.next = t.next;
        t.next = node;
        c.tail = node;
    }
}

void FilterSet::free_chain(std::int32_t head)
{
    while (head >= 0) {
        Node& n = nodes_[static_cast<std::size_t>(head)];
        if (!n.live)
            throw std::logic_error("filter rule freed twice");
        const std::int32_t next = n.next;
        const std::int32_t slot = n.slot;
        n.live = false;
        n.next = -1;
        n.slot = -1;
        n.rule = FilterRule{};
        free_nodes_.push_back(head);
        --live_nodes_;
        if (slot >= 0)
            teardown_slot(slot);
        head = next;
    }
}

void FilterSet::pop_chain(ListId list)
{
    // Upstream: exclude.c:pop_filter_list: drop this level's own rules, keep the inherited.
    Chain& c = chain_of(list);
    if (c.tail < 0)
        return;
    Node& t = nodes_[static_cast<std::size_t>(c.tail)];
    const std::int32_t inherited = t.next;
    t.next = -1;
    const std::int32_t own = c.head;
    c.head = inherited;
    c.tail = -1;
    free_chain(own);
}

void FilterSet::teardown_slot(std::int32_t slot)
{
    // Upstream: exclude.c:teardown_mergelist. Whatever the list still holds belongs to
    // nobody else once its dir-merge rule is gone (upstream leaks it); free it.
    const auto k = static_cast<std::size_t>(slot);
    if (k >= slots_.size() || slots_[k].owner < 0)
        return;
    slots_[k].owner = -1;
    slots_[k].serial = 0;
    const std::int32_t rest = slots_[k].chain.head;
    slots_[k].chain = Chain{};
    free_chain(rest);
    while (!slots_.empty() && slots_.back().owner < 0)
        slots_.pop_back();
}

// --- Adding rules. ----------------------------------------------------------------------------

void FilterSet::add_rule(ListId list, std::string_view pat, RuleFlags flags, XFlags xflags)
{
    using namespace rule_flag;
    // Upstream: exclude.c:add_rule.
    const bool module_anchoring = (xflags & (xflag::Anchored2Abs | xflag::AbsIfSlash)) != 0;
    if (module_anchoring) {
        // Lists filtered here (merge files, the daemon list) keep only this side's rules.
        // The daemon list is built before the role is known, as if receiving.
        const FilterSide drop_for = daemon_build_ ? FilterSide::Receiver : options_.role;
        const RuleFlags other = side_bit(drop_for == FilterSide::Sender ? FilterSide::Receiver
                                                                        : FilterSide::Sender);
        if ((flags & Sides) == other)
            return;
    }
    if (pat.size() > 1 && pat.back() == '/') {
        pat.remove_suffix(1);
        flags |= Directory;
    }
    auto slash_cnt = static_cast<std::uint32_t>(std::count(pat.begin(), pat.end(), '/'));

    std::string prefix;
    const bool leading_slash = !pat.empty() && pat.front() == '/';
    if (!(flags & (AbsPath | MergeFile))
        && ((module_anchoring && leading_slash) || ((xflags & xflag::AbsIfSlash) && slash_cnt))) {
        flags |= AbsPath;
        // An anchored rule of a per-directory file is anchored at that file's directory.
        if (leading_slash && !filter_dir_.empty())
            prefix = "/" + filter_dir_;
    }
    // The daemon turns a directory exclude into "dir/***" so it also hides the contents.
    const bool wild3 = (xflags & xflag::Dir2Wild3) && (flags & Directory) && !(flags & Include);
    if (wild3)
        flags &= ~Directory;

    std::string pattern = prefix;
    pattern += pat;
    if (wild3)
        pattern += "/***";
    slash_cnt += static_cast<std::uint32_t>(std::count(prefix.begin(), prefix.end(), '/'))
                 + (wild3 ? 1 : 0);

    if (pattern.find_first_of("*[?") != std::string::npos) {
        flags |= Wild;
        if (const auto at = pattern.find("**"); at != std::string::npos) {
            flags |= Wild2;
            if (at == 0)
                flags |= Wild2Prefix;
            if (pattern.size() >= 3 && pattern.ends_with("***"))
                flags |= Wild3Suffix;
        }
    }

    std::int32_t slot = -1;
    if (flags & PerDirMerge) {
        // One list per merge-file name: a second rule naming the same file is ignored.
        const std::string_view base = path_basename(pattern);
        std::size_t active = 0;
        for (const Slot& s : slots_) {
            if (s.owner < 0)
                continue;
            ++active;
            if (path_basename(nodes_[static_cast<std::size_t>(s.owner)].rule.pattern) == base)
                return;
        }
        if (active >= options_.limits.max_dir_merges) {
            message(FilterMessage::Level::Error,
                    "too many per-directory merge files; ignoring "
                        + rule_text(flags, pattern));
            return;
        }
    }

    const std::int32_t id = new_node();
    {
        Node& n = nodes_[static_cast<std::size_t>(id)];
        n.rule.flags = flags;
        if (!(flags & PerDirMerge))
            n.rule.slash_cnt = slash_cnt;
        if ((flags & Wild) && !(flags & (PerDirMerge | CvsIgnore))) {
            std::string_view body = pattern;
            if (!body.empty() && body.front() == '/')
                body.remove_prefix(1);
            n.rule.wild = std::make_shared<const WildPattern>(body);
        }
        n.rule.pattern = std::move(pattern);
    }
    if (flags & PerDirMerge) {
        slot = static_cast<std::int32_t>(slots_.size());
        slots_.push_back(Slot{id, Chain{}, next_serial_++});
        nodes_[static_cast<std::size_t>(id)].slot = slot;
    }
    append(list, id);
}

void FilterSet::parse_rules(ListId list, std::string_view text, RuleFlags template_flags,
                            XFlags xflags)
{
    using namespace rule_flag;
    // Upstream: exclude.c:parse_filter_str.
    if (const auto nul = text.find('\0'); nul != std::string_view::npos)
        text = text.substr(0, nul);
    const std::string redacted = src_.in_file ? "<rule from " + where() + ">" : std::string();
    RuleTokenContext ctx;
    // The module's list is built before the client's options are known (upstream
    // clientserver.c:rsync_module), so --delete-excluded never marks its rules.
    ctx.delete_excluded = options_.delete_excluded && !daemon_build_;
    ctx.in_file = src_.in_file;
    ctx.redacted_text = redacted;

    std::size_t pos = 0;
    while (auto tok = parse_rule_token(text, pos, template_flags, xflags, ctx)) {
        RuleFlags flags = tok->flags;
        std::string_view pat = tok->pattern;
        if (flags & PerDirMerge)
            saw_dir_merge_ = true;
        if (flags & Xattr)
            saw_xattr_filter_ = true;

        if (pat.size() >= kMaxPathLen) {
            message(FilterMessage::Level::Error,
                    "discarding over-long filter: " + (src_.in_file ? redacted : std::string(pat)));
            continue;
        }
        if (flags & ClearList) {
            pop_chain(list);
            chain_of(list).head = -1;
            continue;
        }
        if (flags & MergeFile) {
            if (pat.empty())
                pat = ".cvsignore";
            if (flags & ExcludeSelf) {
                // 'e': also exclude the merge file's own name, anywhere.
                add_rule(list, path_basename(pat), flags & FromFile, 0);
                flags &= ~ExcludeSelf;
            }
            if (flags & PerDirMerge) {
                if (parent_dirscan_) {
                    if (auto name = merge_name(flags, pat))
                        add_rule(list, *name, flags, 0);
                    continue;
                }
            } else {
                // A merge file is read now, in place of the rule, with fatal errors on.
                if (auto name = merge_name(flags, pat))
                    parse_file(list, *name, flags, xflag::FatalErrors);
                continue;
            }
        }
        add_rule(list, pat, flags, xflags);
        if ((tok->flags & CvsIgnore) && !(tok->flags & MergeFile))
            load_cvs_excludes(tok->flags);
    }
}

void FilterSet::load_cvs_excludes(RuleFlags flags)
{
    // Upstream: exclude.c:get_cvs_excludes, once per process.
    if (cvs_loaded_)
        return;
    cvs_loaded_ = true;
    const RuleFlags perishable =
        options_.protocol_version >= 30 ? RuleFlags{rule_flag::Perishable} : RuleFlags{0};
    parse_rules(kCvsList, kDefaultCvsIgnore, flags | perishable, 0);
    if (options_.module_chroot) {
        // In a chrooted module "/" is the module root (during the daemon's own build, before
        // chroot, it is the host's root: the current mode decides which file is read).
        parse_file(kCvsList, "/.cvsignore", flags, 0);
    } else if (!options_.home_dir.empty() && options_.home_dir.size() + 12 < kMaxPathLen) {
        const bool saved = operator_mode_;
        operator_mode_ = true;
        std::string path = options_.home_dir;
        if (!path.ends_with('/'))
            path += '/';
        path += ".cvsignore";
        try {
            parse_file(kCvsList, path, flags, 0);
        } catch (...) {
            operator_mode_ = saved;
            throw;
        }
        operator_mode_ = saved;
    }
    if (options_.cvsignore_env)
        parse_rules(kCvsList, *options_.cvsignore_env, flags, 0);
}

void FilterSet::add_daemon_rules(std::string_view text, RuleFlags template_flags, XFlags xflags,
                                 std::string_view module_path)
{
    const bool saved_op = operator_mode_;
    const bool saved_build = daemon_build_;
    std::string saved_who = who_;
    operator_mode_ = daemon_build_ = true;
    module_path_ = module_path;
    // Upstream builds the module list before the role exists: who_am_i() says "Receiver".
    who_ = "Receiver";
    try {
        parse_rules(kDaemonList, text, template_flags, xflags);
    } catch (...) {
        operator_mode_ = saved_op;
        daemon_build_ = saved_build;
        who_ = std::move(saved_who);
        throw;
    }
    operator_mode_ = saved_op;
    daemon_build_ = saved_build;
    who_ = std::move(saved_who);
}

void FilterSet::add_daemon_rule_file(std::string_view path, RuleFlags template_flags,
                                     XFlags xflags, std::string_view module_path)
{
    const bool saved_op = operator_mode_;
    const bool saved_build = daemon_build_;
    std::string saved_who = who_;
    operator_mode_ = daemon_build_ = true;
    module_path_ = module_path;
    who_ = "Receiver";
    try {
        parse_file(kDaemonList, path, template_flags, xflags);
    } catch (...) {
        operator_mode_ = saved_op;
        daemon_build_ = saved_build;
        who_ = std::move(saved_who);
        throw;
    }
    operator_mode_ = saved_op;
    daemon_build_ = saved_build;
    who_ = std::move(saved_who);
}

void FilterSet::add_client_rules(std::string_view text, RuleFlags template_flags, XFlags xflags)
{
    parse_rules(kClientList, text, template_flags, xflags);
}

void FilterSet::add_client_rule_file(std::string_view path, RuleFlags template_flags,
                                     XFlags xflags)
{
    parse_file(kClientList, path, template_flags, xflags);
}

// --- Checking. --------------------------------------------------------------------------------

int FilterSet::check_chain(std::int32_t head, std::string_view name, NameKind kind,
                           std::optional<FilterSide> side, bool ignore_perishable,
                           int depth) const
{
    using namespace rule_flag;
    // Upstream: exclude.c:check_filter.
    if (depth > kMaxCheckDepth)
        throw std::logic_error("filter lists nested too deeply");
    std::size_t steps = 0;
    for (std::int32_t id = head; id >= 0;) {
        if (++steps > nodes_.size())
            throw std::logic_error("filter list has a cycle");
        const Node& n = nodes_[static_cast<std::size_t>(id)];
        if (!n.live)
            throw std::logic_error("filter list reaches a freed rule");
        const RuleFlags f = n.rule.flags;
        id = n.next;
        if (ignore_perishable && (f & Perishable))
            continue;
        if (f & PerDirMerge) {
            const auto k = static_cast<std::size_t>(n.slot);
            if (n.slot >= 0 && k < slots_.size()) {
                if (const int rc = check_chain(slots_[k].chain.head, name, kind, side,
                                               ignore_perishable, depth + 1))
                    return rc;
            }
            continue;
        }
        if (f & CvsIgnore) {
            if (const int rc =
                    check_chain(cvs_.head, name, kind, side, ignore_perishable, depth + 1))
                return rc;
            continue;
        }
        if (side && (f & Sides) && !(f & side_bit(*side)))
            continue;
        if (rule_applies(n.rule, name, kind, cwd_))
            return (f & Include) ? 1 : -1;
    }
    return 0;
}

Verdict FilterSet::check_list(ListId list, std::string_view name, NameKind kind,
                              std::optional<FilterSide> side, bool ignore_perishable) const
{
    const int rc = check_chain(chain_of(list).head, name, kind, side, ignore_perishable, 0);
    return rc > 0 ? Verdict::Include : rc < 0 ? Verdict::Exclude : Verdict::NoMatch;
}

Exclusion FilterSet::excluded(std::string_view name, bool is_dir) const
{
    return excluded(name, is_dir ? NameKind::Dir : NameKind::File, false);
}

Exclusion FilterSet::excluded(std::string_view name, NameKind kind, bool ignore_perishable) const
{
    // Upstream: exclude.c:name_is_excluded; the daemon list first, then the client's.
    if (check_list(kDaemonList, name, kind, std::nullopt, ignore_perishable) == Verdict::Exclude)
        return Exclusion::Daemon;
    if (check_list(kClientList, name, kind, options_.role, ignore_perishable) == Verdict::Exclude)
        return Exclusion::Client;
    return Exclusion::None;
}

bool FilterSet::daemon_excluded(std::string_view name, bool is_dir) const
{
    return check_list(kDaemonList, name, is_dir ? NameKind::Dir : NameKind::File, std::nullopt,
                      false)
           == Verdict::Exclude;
}

bool FilterSet::daemon_excludes_path(std::string_view path, bool check_last) const
{
    // Upstream: flist.c:path_is_daemon_excluded: every leading directory, then the whole path.
    if (daemon_.head < 0)
        return false;
    for (std::size_t slash = path.find('/', 1); slash != std::string_view::npos;
         slash = path.find('/', slash + 1)) {
        if (daemon_excluded(path.substr(0, slash), true))
            return true;
    }
    return check_last && daemon_excluded(path, true);
}

std::vector<std::string> FilterSet::describe_list(ListId list) const
{
    std::vector<std::string> out;
    std::size_t steps = 0;
    for (std::int32_t id = chain_of(list).head; id >= 0 && ++steps <= nodes_.size();) {
        const Node& n = nodes_[static_cast<std::size_t>(id)];
        std::string text = rule_prefix(n.rule.flags & ~rule_flag::FinishSetup);
        text += n.rule.pattern;
        if (n.rule.flags & rule_flag::Directory)
            text += '/';
        out.push_back(std::move(text));
        id = n.next;
    }
    return out;
}

// --- Messages. --------------------------------------------------------------------------------

void FilterSet::message(FilterMessage::Level level, std::string text)
{
    // Bounded like everything else: a hostile tree could produce one per directory.
    if (messages_.size() < 1024)
        messages_.push_back(FilterMessage{level, std::move(text)});
}

std::vector<FilterMessage> FilterSet::take_messages()
{
    return std::exchange(messages_, {});
}

bool FilterSet::take_io_error() noexcept
{
    return std::exchange(io_error_, false);
}

} // namespace ocr::transfer
