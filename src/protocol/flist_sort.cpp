// SPDX-License-Identifier: MIT
// File-list ordering. The comparator walks both names through the same states as
// upstream flist.c:f_name_cmp; the duplicate pass follows flist_sort_and_clean.
#include "protocol/flist_sort.hpp"

#include <algorithm>
#include <numeric>
#include <string>
#include <unordered_map>

namespace ocr::protocol {
namespace {

// Where a cursor is inside "dirname" "/" "basename" [trailing "/"].
enum class Part { Dir, Slash, Base, Trailing };
// Path: compared as if followed by '/'; Item: compared as a plain string.
enum class Kind { Path, Item };

class Cursor {
public:
    Cursor(std::string_view name, bool is_dir, Kind path_kind, bool ignore_dir)
        : is_dir_(is_dir), path_kind_(path_kind)
    {
        const std::size_t slash = name.rfind('/');
        if (slash != std::string_view::npos && !ignore_dir) {
            dir_ = name.substr(0, slash);
            base_ = name.substr(slash + 1);
            kind_ = path_kind_;
            part_ = Part::Dir;
            seg_ = dir_;
        } else {
            base_ = slash == std::string_view::npos ? name : name.substr(slash + 1);
            enter_base();
        }
    }

    [[nodiscard]] bool at_end() const noexcept { return pos_ >= seg_.size(); }
    [[nodiscard]] Kind kind() const noexcept { return kind_; }
    [[nodiscard]] Part part() const noexcept { return part_; }
    /// Whether advancing from the current (used-up) segment leaves nothing more to compare.
    [[nodiscard]] bool reaches_end() const noexcept
    {
        return part_ == Part::Trailing || (part_ == Part::Base && kind_ != Kind::Path);
    }

    // Moves to the next segment once the current one is used up; past the trailing end
    // only the kind changes (to Item).
    void advance_segment() noexcept
    {
        switch (part_) {
        case Part::Dir:
            part_ = Part::Slash;
            set_seg("/");
            break;
        case Part::Slash:
            enter_base();
            break;
        case Part::Base:
            part_ = Part::Trailing;
            if (kind_ == Kind::Path) {
                set_seg("/");
                break;
            }
            kind_ = Kind::Item;
            break;
        case Part::Trailing:
            kind_ = Kind::Item;
            break;
        }
    }

    // The next byte, or 0 at the end of the current segment (a C string's terminator).
    int take() noexcept
    {
        if (at_end())
            return 0;
        return static_cast<unsigned char>(seg_[pos_++]);
    }

private:
    void set_seg(std::string_view s) noexcept
    {
        seg_ = s;
        pos_ = 0;
    }

    void enter_base() noexcept
    {
        kind_ = is_dir_ ? path_kind_ : Kind::Item;
        // A directory named "." is the transfer root: it ends where its parent's name
        // ends, so it sorts before anything inside that parent.
        if (kind_ == Kind::Path && base_ == ".") {
            kind_ = Kind::Item;
            part_ = Part::Trailing;
            set_seg("");
        } else {
            part_ = Part::Base;
            set_seg(base_);
        }
    }

    bool is_dir_;
    Kind path_kind_;
    std::string_view dir_;
    std::string_view base_;
    Kind kind_ = Kind::Item;
    Part part_ = Part::Base;
    std::string_view seg_;
    std::size_t pos_ = 0;
};

std::string_view dir_part(std::string_view name, bool& has_dir) noexcept
{
    const std::size_t slash = name.rfind('/');
    has_dir = slash != std::string_view::npos;
    return has_dir ? name.substr(0, slash) : std::string_view();
}

int kind_order(Kind k1) noexcept
{
    return k1 == Kind::Path ? 1 : -1;
}

} // namespace

int compare_names(std::string_view a, bool a_is_dir, std::string_view b, bool b_is_dir,
                  int protocol) noexcept
{
    const Kind path_kind = protocol >= 29 ? Kind::Path : Kind::Item;
    // Upstream skips identical directory parts (it compares their pointers); names in the
    // same directory then compare by their last component alone.
    bool a_has_dir = false;
    bool b_has_dir = false;
    const std::string_view a_dir = dir_part(a, a_has_dir);
    const std::string_view b_dir = dir_part(b, b_has_dir);
    const bool same_dir = a_has_dir == b_has_dir && a_dir == b_dir;
    Cursor c1(a, a_is_dir, path_kind, same_dir);
    Cursor c2(b, b_is_dir, path_kind, same_dir);

    if (c1.kind() != c2.kind())
        return kind_order(c1.kind());
    for (;;) {
        if (c1.at_end()) {
            c1.advance_segment();
            if (!c2.at_end() && c1.kind() != c2.kind())
                return kind_order(c1.kind());
        }
        if (c2.at_end()) {
            // c2 reaching its end while c1 is also spent means the names are equal.
            if (c2.reaches_end() && c1.at_end())
                return 0;
            c2.advance_segment();
            if (c1.kind() != c2.kind())
                return kind_order(c1.kind());
        }
        // Both used up after their last segment: equal (upstream only gets here for
        // names it would never build, like "x/." against "x").
        if (c1.at_end() && c2.at_end() && c1.part() == Part::Trailing &&
            c2.part() == Part::Trailing)
            return 0;
        const int dif = c1.take() - c2.take();
        if (dif != 0)
            return dif;
    }
}

int compare_entries(const FileEntry& a, const FileEntry& b, int protocol) noexcept
{
    if (!a.active)
        return b.active ? -1 : 0;
    if (!b.active)
        return 1;
    return compare_names(a.name, is_dir(a.mode), b.name, is_dir(b.mode), protocol);
}

SortResult sort_file_list(std::vector<FileEntry>& list, int protocol, FlistSide side,
                          bool inc_recurse, bool strip_root)
{
    SortResult result;
    const std::size_t n = list.size();
    result.order.resize(n);
    std::iota(result.order.begin(), result.order.end(), std::size_t{0});
    if (n == 0)
        return result;

    // Upstream's merge sort keeps equal names in their original order.
    std::stable_sort(result.order.begin(), result.order.end(), [&](std::size_t x, std::size_t y) {
        return compare_entries(list[x], list[y], protocol) < 0;
    });
    {
        std::vector<FileEntry> sorted;
        sorted.reserve(n);
        for (std::size_t from : result.order)
            sorted.push_back(std::move(list[from]));
        list = std::move(sorted);
    }

    const bool sender = side == FlistSide::Sender;
    std::size_t i = 0;
    std::size_t prev_i = 0;
    if (!sender || inc_recurse) {
        while (i < n && !list[i].active)
            ++i;
        if (i == n)
            i = 0; // nothing active: upstream leaves both at 0
        prev_i = i;
        result.low = prev_i;
    } else {
        // A plain sender keeps every entry: the receiver asks for whichever it kept.
        i = prev_i = n - 1;
        result.low = 0;
    }

    // Non-directories kept so far, by name, for a directory that repeats one of them
    // (upstream finds it with a binary search over the kept part of the list).
    std::unordered_map<std::string_view, std::size_t> kept_files;
    auto remember = [&](std::size_t k) {
        if (list[k].active && !is_dir(list[k].mode))
            kept_files.emplace(list[k].name, k);
    };
    if (!sender || inc_recurse)
        remember(prev_i);

    while (++i < n) {
        FileEntry& file = list[i];
        if (!file.active)
            continue;
        std::int64_t j = -1;
        if (compare_entries(file, list[prev_i], protocol) == 0) {
            j = static_cast<std::int64_t>(prev_i);
        } else if (protocol >= 29 && is_dir(file.mode)) {
            // A directory must not duplicate a non-directory earlier in the list.
            const auto it = kept_files.find(file.name);
            if (it != kept_files.end())
                j = static_cast<std::int64_t>(it->second);
        }
        if (j < 0) {
            prev_i = i;
            remember(i);
            continue;
        }
        const auto jj = static_cast<std::size_t>(j);
        std::size_t keep = jj;
        std::size_t drop = i;
        // Keep a directory over a non-directory (it may have contents in the list);
        // otherwise keep the first.
        if (is_dir(file.mode)) {
            FileEntry& other = list[jj];
            if (!is_dir(other.mode)) {
                keep = i;
                drop = jj;
            } else if (sender) {
                file.duplicate = true;
            } else {
                other.top_dir = other.top_dir || file.top_dir;
                other.content_dir = other.content_dir || file.content_dir;
                other.implied_dir = other.implied_dir && file.implied_dir;
            }
        }
        if (!sender) {
            list[drop].active = false;
            if (!is_dir(list[drop].mode)) {
                const auto it = kept_files.find(list[drop].name);
                if (it != kept_files.end() && it->second == drop)
                    kept_files.erase(it);
            }
        }
        if (keep == i) {
            if (result.low == drop) {
                std::size_t k = drop + 1;
                while (k < i && !list[k].active)
                    ++k;
                result.low = k;
            }
            prev_i = i;
            remember(i);
        }
    }
    result.high = static_cast<std::int64_t>(prev_i);

    if (strip_root) {
        // Leading slashes of -R names go only after sorting, so that both ends sorted the
        // same strings.
        for (std::size_t k = result.low; static_cast<std::int64_t>(k) <= result.high; ++k) {
            std::string& name = list[k].name;
            const std::size_t slash = name.rfind('/');
            if (slash == std::string::npos)
                continue;
            std::size_t lead = 0;
            while (lead < slash && name[lead] == '/')
                ++lead;
            // A name whose only slash is its first character loses it with its directory.
            if (lead == slash)
                lead = slash + 1;
            name.erase(0, lead);
        }
    }
    return result;
}

} // namespace ocr::protocol
