// SPDX-License-Identifier: MIT
// File lists captured from upstream rsync 3.5.0 (tests/data/flist/capture.py): the encoder
// must reproduce the daemon's (or client's) bytes from lstat data, and the decoder must read
// them back into the same entries, in upstream's sorted order.
#include "protocol/flist_decoder.hpp"
#include "protocol/flist_encoder.hpp"
#include "protocol/memory_stream.hpp"
#include "protocol/ndx.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace ocr::protocol {
namespace {

struct VecEntry {
    FileEntry entry;
    std::int64_t atime = 0;
};

struct VecList {
    std::int32_t dir_ndx = -1;
    std::vector<FileEntry> entries; // send order
};

struct Capture {
    std::string name;
    FlistOptions opts;
    std::map<std::uint32_t, std::string> users;
    std::map<std::uint32_t, std::string> groups;
    std::vector<VecList> lists;
    std::map<std::int32_t, std::string> sorted; // index -> name, as upstream printed them
    std::string wire;
};

std::string unhex(const std::string& h)
{
    if (h == "-")
        return {};
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
    return out;
}

std::string hex(std::string_view s)
{
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string read_all(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Capture load(const std::string& name)
{
    const std::filesystem::path dir = std::filesystem::path(OCR_TEST_DATA_DIR) / "flist";
    Capture c;
    c.name = name;
    c.wire = read_all(dir / (name + ".bin"));
    std::istringstream vec(read_all(dir / (name + ".vec")));
    std::string line;
    while (std::getline(vec, line)) {
        std::istringstream ls(line);
        std::string kind;
        ls >> kind;
        if (kind == "opt") {
            std::string key, value;
            ls >> key >> value;
            const bool on = value == "1";
            FlistOptions& o = c.opts;
            if (key == "protocol")
                o.protocol = std::stoi(value);
            else if (key == "varint_flags")
                o.varint_flags = on;
            else if (key == "preserve_uid")
                o.preserve_uid = on;
            else if (key == "preserve_gid")
                o.preserve_gid = on;
            else if (key == "preserve_links")
                o.preserve_links = on;
            else if (key == "preserve_devices")
                o.preserve_devices = on;
            else if (key == "preserve_specials")
                o.preserve_specials = on;
            else if (key == "preserve_hard_links")
                o.preserve_hard_links = on;
            else if (key == "preserve_atimes")
                o.preserve_atimes = on;
            else if (key == "always_checksum")
                o.always_checksum = on;
            else if (key == "checksum_len")
                o.checksum_len = std::stoul(value);
            else if (key == "inc_recurse")
                o.inc_recurse = on;
            else if (key == "xmit_id0_names")
                o.xmit_id0_names = on;
            else if (key == "use_safe_inc_flist")
                o.use_safe_inc_flist = on;
            else if (key == "recurse")
                o.recurse = on;
            else if (key == "relative_paths")
                o.relative_paths = on;
            else if (key == "numeric_ids")
                o.numeric_ids = value == "wire"    ? NumericIds::Wire
                                : value == "local" ? NumericIds::Local
                                                   : NumericIds::Off;
            else
                ADD_FAILURE() << "unknown option " << key;
        } else if (kind == "user" || kind == "group") {
            std::uint32_t id = 0;
            std::string n;
            ls >> id >> n;
            (kind == "user" ? c.users : c.groups)[id] = n;
        } else if (kind == "list") {
            VecList l;
            ls >> l.dir_ndx;
            c.lists.push_back(l);
        } else if (kind == "e") {
            std::string name_hex, mode, link, sum, flags;
            FileEntry e;
            std::int64_t dev = 0, ino = 0;
            ls >> name_hex >> mode >> e.size >> e.mtime >> e.mtime_nsec >> e.atime >> e.uid >>
                e.gid >> e.rdev_major >> e.rdev_minor >> link >> sum >> dev >> ino >> e.nlink >>
                flags;
            e.name = unhex(name_hex);
            e.mode = static_cast<std::uint32_t>(std::stoul(mode, nullptr, 8));
            e.symlink_target = unhex(link);
            e.checksum = unhex(sum);
            e.dev_ino = DevIno{dev, ino};
            e.top_dir = flags.find('T') != std::string::npos;
            e.content_dir = flags.find('C') != std::string::npos;
            e.implied_dir = flags.find('I') != std::string::npos;
            c.lists.back().entries.push_back(e);
        } else if (kind == "sorted") {
            std::int32_t ndx = 0;
            std::string n;
            ls >> ndx >> n;
            c.sorted[ndx] = unhex(n);
        }
    }
    return c;
}

std::vector<std::string> capture_names()
{
    std::vector<std::string> names;
    const std::filesystem::path dir = std::filesystem::path(OCR_TEST_DATA_DIR) / "flist";
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
        if (f.path().extension() == ".vec")
            names.push_back(f.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

IdNameLookup lookup_in(const std::map<std::uint32_t, std::string>& names)
{
    return [names](std::uint32_t id) -> std::optional<std::string> {
        const auto it = names.find(id);
        if (it == names.end())
            return std::nullopt;
        return it->second;
    };
}

std::string encode_capture(const Capture& c)
{
    FlistEncoder enc(c.opts, lookup_in(c.users), lookup_in(c.groups));
    NdxEncoder ndx(c.opts.protocol);
    std::string out;
    for (std::size_t k = 0; k < c.lists.size(); ++k) {
        if (k == 0)
            enc.begin_list();
        else
            enc.begin_sublist(out, ndx, c.lists[k].dir_ndx);
        for (const FileEntry& e : c.lists[k].entries)
            enc.put_entry(out, e);
        EXPECT_TRUE(enc.end_list(out, 0));
        if (k == 0)
            enc.put_first_list_trailer(out, 0);
    }
    if (c.opts.inc_recurse)
        FlistEncoder::put_flist_eof(out, ndx);
    return out;
}

class FlistCapture : public ::testing::TestWithParam<std::string> {};

// Verifies that the encoder, given the entries as lstat() saw them in upstream's send order,
// produces exactly the bytes upstream's sender put on the wire (lists, sub-list headers, end
// markers, id lists, io_error trailer).
TEST_P(FlistCapture, EncoderReproducesUpstreamBytes)
{
    const Capture c = load(GetParam());
    ASSERT_FALSE(c.lists.empty());
    const std::string out = encode_capture(c);
    ASSERT_LE(out.size(), c.wire.size());
    EXPECT_EQ(hex(out), hex(c.wire.substr(0, out.size())));
}

// Verifies that the decoder reads upstream's bytes back: the same lists, the same entries
// with every attribute the options carry, upstream's sorted order and indexes, the id lists,
// and that it stops exactly where the encoder's bytes end.
TEST_P(FlistCapture, DecoderReadsUpstreamBytes)
{
    const Capture c = load(GetParam());
    const FlistOptions& o = c.opts;
    MemorySource src(c.wire);
    FlistDecoder dec(o);
    std::vector<DecodedList> lists;
    lists.push_back(dec.read_first_list(src));
    if (o.inc_recurse) {
        NdxDecoder nd(o.protocol);
        for (;;) {
            const std::int32_t ndx = nd.get(src);
            if (ndx == kNdxFlistEof)
                break;
            const std::int32_t dir = dir_ndx_from_header(ndx, dec.dir_count(), "receiver");
            ASSERT_LT(lists.size(), c.lists.size());
            EXPECT_EQ(dir, c.lists[lists.size()].dir_ndx);
            lists.push_back(dec.read_sublist(src, dir));
            EXPECT_EQ(lists.back().parent_dir_ndx, dir);
        }
    }
    ASSERT_EQ(lists.size(), c.lists.size());
    EXPECT_EQ(c.wire.size() - src.remaining(), encode_capture(c).size());
    EXPECT_EQ(dec.io_error(), 0);

    std::map<std::pair<std::int64_t, std::int64_t>, std::int32_t> groups;
    std::set<std::int32_t> used_groups;
    for (std::size_t k = 0; k < lists.size(); ++k) {
        const DecodedList& got = lists[k];
        ASSERT_EQ(got.entries.size(), c.lists[k].entries.size()) << "list " << k;
        if (k == 0 && o.inc_recurse) {
            EXPECT_EQ(got.parent_dir_ndx, 0); // starts with the "." directory
        }
        // A name sent twice is kept once; the other copy stays as an inactive slot.
        std::map<std::string, const FileEntry*> by_name;
        std::map<std::string, int> copies;
        for (const FileEntry& e : got.entries) {
            ++copies[e.name];
            if (e.active) {
                EXPECT_EQ(by_name.count(e.name), 0u) << e.name;
                by_name[e.name] = &e;
            }
        }
        for (const FileEntry& want : c.lists[k].entries)
            --copies[want.name];
        for (const auto& [n, left] : copies)
            EXPECT_EQ(left, 0) << n;
        for (const FileEntry& want : c.lists[k].entries) {
            SCOPED_TRACE(want.name);
            ASSERT_TRUE(by_name.count(want.name));
            const FileEntry& e = *by_name[want.name];
            EXPECT_EQ(e.mode, want.mode);
            const bool nodata = is_device(want.mode) || is_special(want.mode);
            EXPECT_EQ(e.size, nodata ? 0 : want.size);
            const std::int64_t mtime =
                o.protocol >= 30
                    ? want.mtime
                    : static_cast<std::int64_t>(static_cast<std::uint32_t>(want.mtime));
            EXPECT_EQ(e.mtime, mtime);
            EXPECT_EQ(e.mtime_nsec, o.protocol >= 31 ? want.mtime_nsec : 0u);
            EXPECT_EQ(e.atime, o.preserve_atimes && !is_dir(want.mode) ? want.atime : 0);
            EXPECT_EQ(e.uid, o.preserve_uid ? want.uid : 0u);
            EXPECT_EQ(e.gid, o.preserve_gid ? want.gid : 0u);
            if (o.preserve_devices && is_device(want.mode)) {
                EXPECT_EQ(e.rdev_major, want.rdev_major);
                EXPECT_EQ(e.rdev_minor, want.rdev_minor);
            }
            EXPECT_EQ(e.symlink_target, o.preserve_links ? want.symlink_target : std::string());
            EXPECT_EQ(hex(e.checksum),
                      o.always_checksum && is_regular(want.mode) ? hex(want.checksum) : "");
            // Implied parents (-R) are marked on the wire only from protocol 30.
            EXPECT_EQ(e.top_dir, want.top_dir);
            EXPECT_EQ(e.content_dir, want.content_dir);
            EXPECT_EQ(e.implied_dir, want.implied_dir && o.protocol >= 30);
            if (e.user_name) {
                EXPECT_EQ(*e.user_name, c.users.at(e.uid));
            }
            if (e.group_name) {
                EXPECT_EQ(*e.group_name, c.groups.at(e.gid));
            }
            // Hard links: one group per inode among the linked entries.
            const bool linked =
                o.preserve_hard_links &&
                (o.protocol >= 28 ? !is_dir(want.mode) && want.nlink > 1 : is_regular(want.mode));
            if (linked) {
                ASSERT_GE(e.hlink_group, 0);
                const auto key = std::make_pair(want.dev_ino->dev, want.dev_ino->ino);
                const auto [it, inserted] = groups.try_emplace(key, e.hlink_group);
                EXPECT_EQ(it->second, e.hlink_group);
                if (inserted) {
                    EXPECT_TRUE(used_groups.insert(e.hlink_group).second);
                }
            } else {
                EXPECT_EQ(e.hlink_group, -1);
            }
        }
    }
    // Upstream's own sorted lists, index by index.
    ASSERT_FALSE(c.sorted.empty());
    for (const auto& [ndx, name] : c.sorted) {
        const DecodedList* in = nullptr;
        for (const DecodedList& l : lists) {
            if (ndx >= l.ndx_start &&
                ndx < l.ndx_start + static_cast<std::int32_t>(l.entries.size()))
                in = &l;
        }
        ASSERT_NE(in, nullptr) << "index " << ndx;
        const FileEntry& e = in->entries[static_cast<std::size_t>(ndx - in->ndx_start)];
        if (name.empty()) {
            EXPECT_FALSE(e.active) << "index " << ndx; // upstream printed a cleared slot
        } else {
            EXPECT_TRUE(e.active) << "index " << ndx;
            EXPECT_EQ(e.name, name) << "index " << ndx;
        }
    }
    // Id lists: each (id, name) pair is the sender's, and id 0 comes last with CF_ID0_NAMES.
    const IdLists& ids = dec.id_lists();
    if (!o.inc_recurse && o.numeric_ids == NumericIds::Off) {
        // Every named non-zero owner appears once (and id 0 with CF_ID0_NAMES).
        std::set<std::uint32_t> want_users;
        std::set<std::uint32_t> got_users;
        for (const VecList& l : c.lists) {
            for (const FileEntry& e : l.entries) {
                if (e.uid != 0 && c.users.count(e.uid))
                    want_users.insert(e.uid);
            }
        }
        if (o.xmit_id0_names)
            want_users.insert(0);
        for (const IdName& p : ids.users)
            EXPECT_TRUE(got_users.insert(p.id).second) << p.id;
        EXPECT_EQ(got_users, want_users);
        for (const IdName& p : ids.users) {
            EXPECT_EQ(p.name, c.users.count(p.id) ? c.users.at(p.id) : "") << p.id;
        }
        for (const IdName& p : ids.groups) {
            EXPECT_EQ(p.name, c.groups.count(p.id) ? c.groups.at(p.id) : "") << p.id;
        }
    } else if (!o.inc_recurse && o.numeric_ids == NumericIds::Local && o.xmit_id0_names) {
        ASSERT_EQ(ids.users.size(), 1u);
        EXPECT_EQ(ids.users[0].id, 0u);
    } else {
        EXPECT_TRUE(ids.users.empty());
    }
    if (o.xmit_id0_names && !ids.users.empty()) {
        EXPECT_EQ(ids.users.back().id, 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Upstream, FlistCapture, ::testing::ValuesIn(capture_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

} // namespace
} // namespace ocr::protocol
