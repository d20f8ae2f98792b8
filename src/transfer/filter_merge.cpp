// SPDX-License-Identifier: MIT
// Per-directory merge files: entering and leaving directories, and the parent-directory scan.
#include "transfer/filter_path.hpp"
#include "transfer/filter_set.hpp"

#include <stdexcept>

namespace ocr::transfer {

void FilterSet::set_transfer_root(std::string_view module_dir)
{
    cwd_ = resolve_module_path("", module_dir);
}

void FilterSet::set_filter_dir(std::string_view dir)
{
    // Upstream: exclude.c:set_filter_dir (a name too long to append falls back to curr_dir).
    if (!dir.empty() && dir.front() == '/')
        filter_dir_ = resolve_module_path("", dir);
    else if (cwd_.size() + 1 + dir.size() >= kMaxPathLen)
        filter_dir_ = cwd_;
    else
        filter_dir_ = resolve_module_path(cwd_, dir);
}

bool FilterSet::setup_merge_file(std::size_t slot)
{
    // Upstream: exclude.c:setup_merge_file. A dir-merge name with a directory part that is
    // an ancestor of the current directory makes every directory from there down to (not
    // including) the current one read the file too, before the normal per-directory read.
    const std::int32_t owner = slots_[slot].owner;
    const std::uint64_t serial = slots_[slot].serial;
    const RuleFlags flags = nodes_[static_cast<std::size_t>(owner)].rule.flags;
    const std::string pattern = nodes_[static_cast<std::size_t>(owner)].rule.pattern;
    const auto full = merge_name(flags, pattern);
    if (!full || full->empty() || full->front() != '/')
        return false;

    const std::size_t slash = full->rfind('/');
    const std::string name = full->substr(slash + 1);
    const std::string dir = resolve_module_path("", full->substr(0, slash));
    nodes_[static_cast<std::size_t>(owner)].rule.pattern = name;

    const std::string here = filter_dir_;
    const bool ancestor = dir.empty() || here == dir
                          || (here.size() > dir.size() && here.starts_with(dir)
                              && here[dir.size()] == '/');
    if (!ancestor)
        return true;

    parent_dirscan_ = true;
    const auto list = static_cast<ListId>(slot);
    std::string scan = dir;
    try {
        while (scan != here) {
            filter_dir_ = scan;
            parse_file(list, "/" + join_module_path(scan, name), flags, xflag::Anchored2Abs);
            if (slot < slots_.size() && slots_[slot].serial == serial) {
                Chain& c = slots_[slot].chain;
                if (flags & rule_flag::NoInherit) {
                    const std::int32_t head = c.head;
                    c = Chain{};
                    free_chain(head);
                }
                slots_[slot].chain.tail = -1;
            }
            // Step one component deeper towards the current directory.
            const std::size_t from = scan.empty() ? 0 : scan.size() + 1;
            const std::size_t next = here.find('/', from);
            scan = here.substr(0, next == std::string::npos ? here.size() : next);
        }
    } catch (...) {
        parent_dirscan_ = false;
        filter_dir_ = here;
        throw;
    }
    parent_dirscan_ = false;
    filter_dir_ = here;
    return true;
}

void FilterSet::push_dir(std::string_view dir)
{
    // Upstream: exclude.c:push_local_filters.
    set_filter_dir(dir);
    PushRecord rec;
    if (!slots_.empty()) {
        rec.saved = true;
        rec.serials.reserve(slots_.size());
        rec.chains.reserve(slots_.size());
        for (const Slot& s : slots_) {
            rec.serials.push_back(s.owner >= 0 ? s.serial : 0);
            rec.chains.push_back(s.chain);
        }
    }
    // Records are kept even when nothing was saved, so pops pair up with pushes; pushing
    // first means a failure below still leaves a record for the caller's pop.
    pushes_.push_back(std::move(rec));

    // Reading a file may add dir-merge rules, whose files are then read here too.
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        const std::int32_t owner = slots_[i].owner;
        const std::uint64_t serial = slots_[i].serial;
        if (owner < 0)
            continue;
        Chain& c = slots_[i].chain;
        c.tail = -1; // this level's rules start out empty; the rest is inherited
        RuleFlags flags = nodes_[static_cast<std::size_t>(owner)].rule.flags;
        if (flags & rule_flag::NoInherit)
            c.head = -1;
        if (flags & rule_flag::FinishSetup) {
            nodes_[static_cast<std::size_t>(owner)].rule.flags &= ~rule_flag::FinishSetup;
            if (setup_merge_file(i))
                set_filter_dir(dir);
            if (i >= slots_.size() || slots_[i].serial != serial)
                continue;
            flags = nodes_[static_cast<std::size_t>(owner)].rule.flags;
        }
        const std::string name = nodes_[static_cast<std::size_t>(owner)].rule.pattern;
        const std::string path = "/" + join_module_path(filter_dir_, name);
        if (path.size() >= kMaxPathLen) {
            io_error_ = true;
            message(FilterMessage::Level::Error,
                    "cannot add local filter rules in long-named directory: "
                        + rule_text(flags, "/" + filter_dir_));
            continue;
        }
        parse_file(static_cast<ListId>(i), path, flags, xflag::Anchored2Abs);
    }
}

void FilterSet::pop_dir()
{
    // Upstream: exclude.c:pop_local_filters.
    if (pushes_.empty())
        throw std::logic_error("pop_dir() without push_dir()");
    PushRecord rec = std::move(pushes_.back());
    pushes_.pop_back();
    for (std::size_t i = slots_.size(); i-- > 0;) {
        // Freeing a level's rules can tear down later lists, which shrinks slots_.
        if (i >= slots_.size() || slots_[i].owner < 0)
            continue;
        pop_chain(static_cast<ListId>(i));
    }
    if (!rec.saved)
        return;
    for (std::size_t i = 0; i < rec.serials.size() && i < slots_.size(); ++i) {
        if (slots_[i].owner < 0 || rec.serials[i] == 0 || slots_[i].serial != rec.serials[i])
            continue;
        // Rules a parent-directory scan put in front of the saved state are dropped with
        // it, as upstream drops them (it leaks them); a later directory does not see them.
        std::int32_t id = slots_[i].chain.head;
        while (id >= 0 && id != rec.chains[i].head) {
            const std::int32_t next = nodes_[static_cast<std::size_t>(id)].next;
            nodes_[static_cast<std::size_t>(id)].next = -1;
            free_chain(id);
            id = next;
        }
        if (i < slots_.size() && slots_[i].serial == rec.serials[i])
            slots_[i].chain = rec.chains[i];
    }
}

} // namespace ocr::transfer
