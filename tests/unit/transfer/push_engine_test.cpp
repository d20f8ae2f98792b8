// SPDX-License-Identifier: MIT
// Drives a whole push (PushEngine: generator and receiver threads) over a socketpair with
// a sending client scripted in the test: file lists, answers to the generator's requests
// (real deltas against the block sums it sent), phases and the final goodbye.
#include "transfer/push_engine.hpp"

#include "protocol/checksum.hpp"
#include "protocol/flist_decoder.hpp"
#include "protocol/flist_encoder.hpp"
#include "protocol/memory_stream.hpp"
#include "protocol/mux.hpp"
#include "protocol/ndx.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/sum_head.hpp"
#include "protocol/token_codec.hpp"
#include "protocol/wire.hpp"
#include "transfer/delta_matcher.hpp"
#include "transfer/filter_daemon.hpp"
#include "transfer/filter_source.hpp"
#include "transfer/itemize.hpp"
#include "transfer/receiver.hpp"
#include "support/demux_reader.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <vector>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;
using protocol::MsgCode;

constexpr std::int32_t kSeed = 0x2468ace;
constexpr std::int64_t kOldTime = 1500000000;
constexpr std::int64_t kNewTime = 1600000000;

std::string pseudo_random(std::size_t n, std::uint32_t seed)
{
    std::string s(n, '\0');
    for (auto& c : s) {
        seed = seed * 1103515245u + 12345u;
        c = static_cast<char>(seed >> 16);
    }
    return s;
}

std::string int32_le(std::int32_t v)
{
    std::string s;
    protocol::put_i32(s, v);
    return s;
}

std::span<const std::byte> as_bytes(std::span<const std::uint8_t> s)
{
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::span<const std::uint8_t> as_u8(const std::string& s)
{
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// One thing the client sends.
struct Src {
    std::string name;
    std::uint32_t mode = 0;
    std::string content; // file data, or the symlink target
    std::int64_t mtime = kNewTime;
    std::int64_t inode = 0; // shared by the names of one hard-link group (0: none)
};

Src file(std::string name, std::string content, std::int64_t mtime = kNewTime, std::uint32_t perms = 0644)
{
    return Src{std::move(name), protocol::kModeRegular | perms, std::move(content), mtime};
}

Src dir(std::string name, std::uint32_t perms = 0755)
{
    return Src{std::move(name), protocol::kModeDir | perms, {}, kOldTime};
}

Src symlink_to(std::string name, std::string target)
{
    return Src{std::move(name), protocol::kModeSymlink | 0777, std::move(target), kOldTime};
}

// The module's directory the push writes into.
class Dest {
public:
    Dest()
    {
        char tmpl[] = "/tmp/ocr_push_test_XXXXXX";
        root_ = ::mkdtemp(tmpl);
    }
    ~Dest() { std::filesystem::remove_all(root_); }
    Dest(const Dest&) = delete;
    Dest& operator=(const Dest&) = delete;

    [[nodiscard]] const std::string& root() const { return root_; }
    void put(const std::string& name, const std::string& content, std::int64_t mtime, mode_t perms = 0644) const
    {
        const std::string p = root_ + "/" + name;
        {
            std::ofstream f(p, std::ios::binary | std::ios::trunc);
            f << content;
        }
        ::chmod(p.c_str(), perms);
        const timespec ts[2] = {{mtime, 0}, {mtime, 0}};
        ::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
    }
    void mkdir(const std::string& name) const { ::mkdir((root_ + "/" + name).c_str(), 0755); }
    [[nodiscard]] bool exists(const std::string& name) const
    {
        struct stat st{};
        return ::lstat((root_ + "/" + name).c_str(), &st) == 0;
    }
    [[nodiscard]] std::string content(const std::string& name) const
    {
        std::ifstream f(root_ + "/" + name, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(f), {});
    }
    [[nodiscard]] struct stat stat_of(const std::string& name) const
    {
        struct stat st{};
        EXPECT_EQ(::lstat((root_ + "/" + name).c_str(), &st), 0) << name;
        return st;
    }
    [[nodiscard]] std::string link_target(const std::string& name) const
    {
        char buf[4096];
        const ssize_t n = ::readlink((root_ + "/" + name).c_str(), buf, sizeof buf);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }
    // Names left in the module root (temp files would show up here).
    [[nodiscard]] std::vector<std::string> listing() const
    {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(root_))
            out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    std::string root_;
};

ReceiverOptions options_for(int protocol)
{
    ReceiverOptions o;
    o.flist.protocol = protocol;
    o.flist.varint_flags = protocol >= 30;
    o.flist.inc_recurse = protocol >= 30;
    o.flist.use_safe_inc_flist = protocol >= 31;
    o.flist.recurse = true;
    o.flist.preserve_links = true;
    o.flist.checksum_len = 16;
    o.xfer_checksum = {protocol::ChecksumKind::Md5, protocol::SeedPlacement::Prepend};
    o.file_checksum = protocol::ChecksumKind::Md5;
    o.checksum_seed = kSeed;
    o.dest_given = true;
    o.dest_path = ".";
    o.recurse = true;
    o.preserve_perms = true;
    o.preserve_mtimes = true;
    o.preserve_links = true;
    o.umask = 022;
    o.io_timeout = std::chrono::seconds(10);
    return o;
}

// The push engine on one end of a socketpair, in its own thread.
class EngineRun {
public:
    EngineRun(const std::string& root, ReceiverOptions opt, int fd, std::string module_exclude)
        : opt_(std::move(opt)), fd_(fd)
    {
        thread_ = std::thread([this, root, ex = std::move(module_exclude)] { body(root, ex); });
    }
    ~EngineRun() { join(); }
    EngineRun(const EngineRun&) = delete;
    EngineRun& operator=(const EngineRun&) = delete;

    void join()
    {
        if (thread_.joinable())
            thread_.join();
    }

    std::optional<PushResult> result;
    std::optional<ExitCode> error_code;
    std::string error_text;
    std::optional<int> peer_exit;
    std::vector<std::string> log;

private:
    void body(const std::string& root, const std::string& module_exclude)
    {
        const int protocol = opt_.flist.protocol;
        Connection conn({fd_, std::chrono::seconds(10), 0, "receiver", {}});
        conn.start_mux_out();
        if (protocol >= 30)
            conn.start_mux_in();
        Reporter report(conn, protocol, "generator",
                        [this](Reporter::LogLevel, std::string_view line) { log.emplace_back(line); });
        report.set_can_send(true);
        UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        ModuleWriter writer(root_fd.get());
        NoFilterFiles no_files;
        FilterOptions fo;
        fo.role = FilterSide::Receiver;
        fo.protocol_version = protocol;
        fo.who = "receiver";
        FilterSet filters(fo, no_files);
        try {
            if (!module_exclude.empty())
                load_module_filters(filters, ModuleFilterConfig{"", "", "", "", module_exclude, root});
            PushEngine::Services services{
                .conn = conn, .fd = fd_, .writer = writer, .report = report, .filters = filters, .module_name = "mod"};
            PushEngine engine(opt_, std::move(services));
            result = engine.run(WireFilterParams{});
            conn.flush();
        } catch (const protocol::ProtocolError& e) {
            error_code = e.code();
            error_text = e.what();
        } catch (const PushPeerExit& e) {
            peer_exit = e.code;
        } catch (const std::exception& e) {
            error_text = std::string("unexpected: ") + e.what();
        }
        ::shutdown(fd_, SHUT_RDWR);
    }

    ReceiverOptions opt_;
    int fd_;
    std::thread thread_;
};

class StringSink final : public protocol::ByteSink {
public:
    void write_all(std::span<const std::byte> data) override
    {
        out.append(reinterpret_cast<const char*>(data.data()), data.size());
    }
    void flush() override {}
    std::string out;
};

class EncoderSink final : public DeltaSink {
public:
    explicit EncoderSink(protocol::TokenEncoder& enc) : enc_(enc) {}
    void step(const DeltaStep& s) override
    {
        enc_.literal(as_bytes(s.literal));
        if (s.block >= 0)
            enc_.block(s.block, as_bytes(s.block_data));
    }

private:
    protocol::TokenEncoder& enc_;
};

// What the client saw of one generator request.
struct Seen {
    std::string name;
    std::uint32_t iflags = 0;
    int phase = 0;
    protocol::SumHead head; // transfer requests only
    std::uint8_t basis_type = kBasisFname;
    std::string xname;
};

// How the scripted client misbehaves or differs from a plain sender.
struct Script {
    std::set<std::string> corrupt_once;   ///< spoil the whole-file sum of the first send
    std::set<std::string> corrupt_always; ///< spoil it every time
    /// Replaces the sum header echoed before the data (the answer to @p name's request).
    std::map<std::string, protocol::SumHead> bad_head;
    /// Sends only this many literal bytes of the named file, then hangs up (a killed client).
    std::map<std::string, std::size_t> cut_short;
};

// Thrown inside the client's loop when the script hangs up.
struct HungUp {};

// The scripted sending client (upstream's sender.c:send_files as a client runs it).
class PushClient {
public:
    PushClient(const Dest& dest, ReceiverOptions opt, std::string module_exclude = {})
        : opt_(opt), protocol_(opt.flist.protocol)
    {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        fd_ = sv[0];
        // A broken engine must fail the test, not hang it.
        timeval tv{20, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        in_.emplace(fd_);
        server_fd_ = sv[1];
        run_.emplace(dest.root(), std::move(opt), sv[1], std::move(module_exclude));
    }
    ~PushClient()
    {
        ::shutdown(fd_, SHUT_RDWR);
        run_.reset();
        ::close(fd_);
        ::close(server_fd_);
    }
    PushClient(const PushClient&) = delete;
    PushClient& operator=(const PushClient&) = delete;

    // --- writing -------------------------------------------------------------------
    void data(const std::string& bytes)
    {
        if (protocol_ >= 30) {
            for (std::size_t pos = 0; pos < bytes.size(); pos += 4096)
                pending_ += protocol::encode_frame(MsgCode::Data, std::string_view(bytes).substr(pos, 4096));
        } else {
            pending_ += bytes;
        }
    }
    void message(MsgCode code, const std::string& payload) { pending_ += protocol::encode_frame(code, payload); }
    void ndx(std::int32_t n)
    {
        std::string s;
        ndx_out_.put(s, n);
        data(s);
    }
    void flush()
    {
        recorded_ += pending_;
        std::size_t pos = 0;
        while (pos < pending_.size()) {
            const ssize_t w = ::send(fd_, pending_.data() + pos, pending_.size() - pos, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            pos += static_cast<std::size_t>(w);
        }
        pending_.clear();
    }

    // Sends the whole file list: the first list, then (incremental) one sub-list per
    // directory and NDX_FLIST_EOF. The client decodes its own bytes as the engine will
    // to learn each name's index (the receiver sorts).
    void send_lists(const std::vector<Src>& srcs)
    {
        for (const Src& s : srcs)
            src_[s.name] = s;
        protocol::FlistEncoder enc(opt_.flist, {}, {});
        protocol::FlistDecoder mirror(opt_.flist, "Receiver");
        protocol::NdxDecoder mirror_ndx(protocol_, "receiver");
        std::vector<std::string> dir_table;
        auto children = [&](const std::string& parent) {
            std::vector<const Src*> out;
            for (const Src& s : srcs) {
                if (s.name == ".")
                    continue;
                const auto slash = s.name.rfind('/');
                const std::string p = slash == std::string::npos ? "." : s.name.substr(0, slash);
                if (p == parent)
                    out.push_back(&s);
            }
            return out;
        };
        auto entry_of = [&](const Src& s) {
            protocol::FileEntry e;
            e.name = s.name;
            e.mode = s.mode;
            e.mtime = s.mtime;
            if (protocol::is_regular(s.mode))
                e.size = static_cast<std::int64_t>(s.content.size());
            if (protocol::is_symlink(s.mode)) {
                e.symlink_target = s.content;
                e.size = static_cast<std::int64_t>(s.content.size());
            }
            if (protocol::is_dir(s.mode))
                e.content_dir = true;
            if (s.name == ".")
                e.top_dir = true;
            if (s.inode != 0) {
                e.dev_ino = protocol::DevIno{1, s.inode};
                e.nlink = 2;
            }
            if (opt_.flist.always_checksum && protocol::is_regular(s.mode)) {
                auto sum = protocol::FileChecksum::for_file_list(opt_.file_checksum);
                sum.update(as_u8(s.content));
                e.checksum.assign(sum.length(), '\0');
                sum.finish(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(e.checksum.data()),
                                                   e.checksum.size()));
            }
            return e;
        };
        auto note_list = [&](const protocol::DecodedList& l, const std::string& parent) {
            // The slot before a list names its directory (upstream flist_for_ndx).
            if (opt_.flist.inc_recurse)
                names_[l.ndx_start - 1] = parent;
            for (std::size_t i = 0; i < l.entries.size(); ++i) {
                names_[l.ndx_start + static_cast<std::int32_t>(i)] = l.entries[i].name;
                if (protocol::is_dir(l.entries[i].mode))
                    dir_table.push_back(l.entries[i].name);
            }
            ++list_count_;
        };

        std::string out;
        enc.begin_list();
        std::vector<const Src*> first;
        if (opt_.flist.inc_recurse) {
            for (const Src& s : srcs)
                if (s.name == ".")
                    first.push_back(&s);
            for (const Src* s : children("."))
                first.push_back(s);
        } else {
            for (const Src& s : srcs)
                first.push_back(&s);
        }
        for (const Src* s : first)
            enc.put_entry(out, entry_of(*s));
        enc.end_list(out, 0);
        if (!opt_.flist.inc_recurse)
            enc.put_first_list_trailer(out, 0);
        {
            protocol::MemorySource mem(out);
            note_list(mirror.read_first_list(mem), ".");
        }
        data(out);
        if (opt_.flist.inc_recurse) {
            for (std::size_t d = 0; d < dir_table.size(); ++d) {
                if (dir_table[d] == ".")
                    continue;
                std::string sub;
                enc.begin_sublist(sub, ndx_out_, static_cast<std::int32_t>(d));
                for (const Src* s : children(dir_table[d]))
                    enc.put_entry(sub, entry_of(*s));
                enc.end_list(sub, 0);
                protocol::MemorySource mem(sub);
                const std::int32_t header = mirror_ndx.get(mem);
                const auto dn = protocol::dir_ndx_from_header(header, mirror.dir_count(), "receiver");
                note_list(mirror.read_sublist(mem, dn), dir_table[d]);
                data(sub);
            }
            std::string eof;
            protocol::FlistEncoder::put_flist_eof(eof, ndx_out_);
            data(eof);
        }
        flush();
    }

    [[nodiscard]] std::int32_t index_of(const std::string& name) const
    {
        for (const auto& [n, nm] : names_)
            if (nm == name)
                return n;
        ADD_FAILURE() << "no entry " << name;
        return 0;
    }

    // --- the sender's loop ---------------------------------------------------------
    // Answers the generator until the last phase ends, then the goodbye. False when the
    // engine closed the connection first.
    bool serve(const Script& script = {})
    {
        try {
            serve_loop(script);
            return true;
        } catch (const HungUp&) {
            stop_reason_ = "hung up";
            return false;
        } catch (const protocol::ProtocolError& e) {
            stop_reason_ = e.what();
            return false;
        }
    }

    [[nodiscard]] const std::string& stop_reason() const { return stop_reason_; }

    // With OCR_PUSH_SEED_DIR set, saves what the client sent as a seed for
    // fuzz/fuzz_receiver_session.cpp (its first byte selects the options: @p selector).
    void save_seed(const std::string& name, std::uint8_t selector) const
    {
        const char* dir = std::getenv("OCR_PUSH_SEED_DIR");
        if (!dir)
            return;
        std::ofstream f(std::string(dir) + "/" + name, std::ios::binary);
        f << static_cast<char>(selector) << recorded_;
    }

    // Waits for the engine, then collects what it wrote after the goodbye.
    EngineRun& finish()
    {
        run_->join();
        in_->drain_to_eof();
        return *run_;
    }

    test::DemuxReader& in() { return *in_; }
    std::int32_t read_ndx() { return ndx_in_.get(*in_); }
    [[nodiscard]] const std::vector<Seen>& transfers() const { return transfers_; }
    [[nodiscard]] const std::vector<Seen>& items() const { return items_; }
    [[nodiscard]] std::size_t list_count() const { return list_count_; }
    [[nodiscard]] std::vector<std::string> transferred_names(int phase) const
    {
        std::vector<std::string> out;
        for (const Seen& s : transfers_)
            if (s.phase == phase)
                out.push_back(s.name);
        std::sort(out.begin(), out.end());
        return out;
    }
    [[nodiscard]] std::int64_t matched_bytes() const { return matched_; }
    [[nodiscard]] std::int64_t literal_bytes() const { return literal_; }

private:
    void serve_loop(const Script& script)
    {
        int phase = 0;
        const int max_phase = protocol_ >= 29 ? 2 : 1;
        std::size_t retired = 0;
        for (;;) {
            flush();
            const std::int32_t n = read_ndx();
            if (n == protocol::kNdxDone) {
                if (opt_.flist.inc_recurse && retired < list_count_) {
                    ++retired;
                    if (retired < list_count_) {
                        ndx(protocol::kNdxDone);
                        continue;
                    }
                }
                if (++phase > max_phase)
                    break;
                ndx(protocol::kNdxDone);
                continue;
            }
            if (n < 0 || !names_.count(n)) {
                ADD_FAILURE() << "generator sent index " << n;
                throw protocol::ProtocolError(ExitCode::Protocol, "bad index from the generator");
            }
            std::uint32_t iflags = protocol_ >= 29 ? protocol::get_u16(*in_) : (kItemTransfer | kItemMissingData);
            std::uint8_t basis_type = kBasisFname;
            if (iflags & kItemBasisTypeFollows)
                basis_type = protocol::get_byte(*in_);
            std::string xname;
            if (iflags & kItemXnameFollows)
                xname = protocol::get_vstring(*in_, 4096);
            const std::string& name = names_[n];
            if (!(iflags & kItemTransfer)) {
                items_.push_back(Seen{name, iflags, phase, {}, basis_type, xname});
                echo(n, iflags);
                continue;
            }
            Seen seen{name, iflags, phase, {}, basis_type, xname};
            if (opt_.dry_run) {
                transfers_.push_back(seen);
                echo(n, iflags);
                continue;
            }
            seen.head = protocol::get_sum_head(*in_, protocol::SumHeadRules{protocol_, 16, "sender"});
            // Upstream sender.c:receive_sums reads no block sums when appending (the redo
            // of a file is never an append).
            const bool appending = opt_.append_mode > 0 && !sent_.count(name);
            const protocol::BlockSums sums =
                appending ? protocol::BlockSums() : protocol::get_block_sums(*in_, seen.head, {});
            transfers_.push_back(seen);
            send_file(n, iflags, basis_type, name, seen.head, sums, appending, script);
        }
        // Upstream sender.c:send_files ends with one more NDX_DONE, then main.c:
        // read_final_goodbye on the sending client.
        ndx(protocol::kNdxDone);
        flush();
        const std::int32_t bye = read_ndx();
        EXPECT_EQ(bye, protocol::kNdxDone);
        if (protocol_ >= 31) {
            ndx(protocol::kNdxDone);
            flush();
        }
    }

    // Upstream sender.c:write_ndx_and_attrs: the index, the flags and the basis type.
    void put_ndx_and_attrs(std::string& out, std::int32_t n, std::uint32_t iflags, std::uint8_t basis_type)
    {
        ndx_out_.put(out, n);
        if (protocol_ < 29)
            return;
        protocol::put_u16(out, static_cast<std::uint16_t>(iflags & kItemWireMask & ~kItemXnameFollows));
        if (iflags & kItemBasisTypeFollows)
            out.push_back(static_cast<char>(basis_type));
    }

    void echo(std::int32_t n, std::uint32_t iflags)
    {
        std::string s;
        put_ndx_and_attrs(s, n, iflags, kBasisFname);
        data(s);
    }

    void send_file(std::int32_t n, std::uint32_t iflags, std::uint8_t basis_type, const std::string& name,
                   const protocol::SumHead& head, const protocol::BlockSums& sums, bool appending,
                   const Script& script)
    {
        const std::string& content = src_.at(name).content;
        std::string out;
        put_ndx_and_attrs(out, n, iflags, basis_type);
        const auto bad = script.bad_head.find(name);
        if (bad != script.bad_head.end()) {
            std::string h;
            protocol::put_i32(h, bad->second.count);
            protocol::put_i32(h, bad->second.blength);
            if (protocol_ >= 27)
                protocol::put_i32(h, bad->second.s2length);
            protocol::put_i32(h, bad->second.remainder);
            data(out + h);
            flush();
            return;
        }
        protocol::put_sum_head(out, head, protocol_);
        const auto cut = script.cut_short.find(name);
        if (cut != script.cut_short.end()) {
            // One literal run of the simple token format, then nothing: the client is gone.
            const std::size_t len = std::min(cut->second, content.size());
            protocol::put_i32(out, static_cast<std::int32_t>(len));
            out += content.substr(0, len);
            data(out);
            flush();
            ::shutdown(fd_, SHUT_WR);
            throw HungUp{};
        }

        StringSink sink;
        auto enc = protocol::make_token_encoder({protocol::Compression::None, 0, protocol_}, sink);
        enc->begin_file();
        EncoderSink steps(*enc);
        MemoryDataWindow window(as_u8(content));
        protocol::BlockChecksum strong(opt_.xfer_checksum, opt_.checksum_seed);
        DeltaMatcher matcher;
        MatchOptions mo;
        if (appending) {
            mo.append_length = head.file_length();
            mo.append_verify = opt_.append_mode == 2;
        }
        const MatchResult r =
            matcher.match(sums, static_cast<std::int64_t>(content.size()), window, strong,
                          protocol::FileChecksum::for_transfer(opt_.xfer_checksum.kind, opt_.checksum_seed), steps, mo);
        enc->end_file();
        matched_ += r.stats.matched_data;
        literal_ += r.stats.literal_data;
        out += sink.out;
        std::string sum(reinterpret_cast<const char*>(r.file_sum.data()), r.file_sum_length);
        const bool first_time = sent_.insert(name).second;
        if (script.corrupt_always.count(name) || (first_time && script.corrupt_once.count(name)))
            sum[0] = static_cast<char>(sum[0] ^ 0x5a);
        out += sum;
        data(out);
    }

    ReceiverOptions opt_;
    int protocol_;
    int fd_ = -1;
    int server_fd_ = -1;
    std::string pending_;
    protocol::NdxEncoder ndx_out_{opt_.flist.protocol};
    protocol::NdxDecoder ndx_in_{opt_.flist.protocol, "sender"};
    std::map<std::string, Src> src_;
    std::map<std::int32_t, std::string> names_;
    std::size_t list_count_ = 0;
    std::vector<Seen> transfers_;
    std::vector<Seen> items_;
    std::set<std::string> sent_;
    std::int64_t matched_ = 0;
    std::int64_t literal_ = 0;
    std::string stop_reason_;
    std::string recorded_;
    std::optional<test::DemuxReader> in_;
    std::optional<EngineRun> run_;
};

std::vector<Src> sample_tree(const std::string& big)
{
    return {dir("."),
            file("a.txt", "hello, receiver\n"),
            file("big.bin", big),
            file("empty", ""),
            symlink_to("link", "a.txt"),
            dir("sub"),
            file("sub/c.txt", "sub file\n", kOldTime, 0600),
            dir("sub/deeper"),
            file("sub/deeper/d.txt", "d\n")};
}

// A whole push into an empty module, checked file by file.
void fresh_push(int protocol)
{
    Dest dest;
    const std::string big = pseudo_random(20000, 3);
    PushClient c(dest, options_for(protocol));
    c.send_lists(sample_tree(big));
    EXPECT_EQ(c.list_count(), protocol >= 30 ? 3u : 1u);
    ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
    EngineRun& run = c.finish();
    ASSERT_TRUE(run.result) << run.error_text;
    EXPECT_EQ(run.result->exit_code, 0);
    EXPECT_EQ(run.result->total_size, static_cast<std::int64_t>(big.size() + 16 + 9 + 2 + 5));

    EXPECT_EQ(c.transferred_names(0),
              (std::vector<std::string>{"a.txt", "big.bin", "empty", "sub/c.txt", "sub/deeper/d.txt"}));
    for (const Seen& s : c.transfers())
        EXPECT_EQ(s.head.count, 0) << s.name; // no basis anywhere
    EXPECT_EQ(dest.content("a.txt"), "hello, receiver\n");
    EXPECT_EQ(dest.content("big.bin"), big);
    EXPECT_EQ(dest.content("empty"), "");
    EXPECT_EQ(dest.content("sub/c.txt"), "sub file\n");
    EXPECT_EQ(dest.content("sub/deeper/d.txt"), "d\n");
    EXPECT_EQ(dest.link_target("link"), "a.txt");
    EXPECT_EQ(dest.stat_of("a.txt").st_mtime, kNewTime);
    EXPECT_EQ(dest.stat_of("sub/c.txt").st_mtime, kOldTime);
    EXPECT_EQ(dest.stat_of("sub/c.txt").st_mode & 07777, 0600u);
    EXPECT_TRUE(S_ISDIR(dest.stat_of("sub/deeper").st_mode));
    // Directory times are set after their contents were written.
    EXPECT_EQ(dest.stat_of("sub").st_mtime, kOldTime);
    EXPECT_EQ(dest.stat_of("sub/deeper").st_mtime, kOldTime);
    // No temp file left behind.
    EXPECT_EQ(dest.listing(), (std::vector<std::string>{"a.txt", "big.bin", "empty", "link", "sub"}));
    c.save_seed("fresh_p" + std::to_string(protocol), static_cast<std::uint8_t>(protocol - 28));
}

// Verifies that a push at protocol 32 (incremental lists, varint flags) builds the tree.
TEST(PushEngine, FreshPushProtocol32)
{
    fresh_push(32);
}

// Verifies that a push at protocol 30 (incremental lists, no goodbye echo) builds the tree.
TEST(PushEngine, FreshPushProtocol30)
{
    fresh_push(30);
}

// Verifies that a push at protocol 29 (one list, raw input) builds the tree.
TEST(PushEngine, FreshPushProtocol29)
{
    fresh_push(29);
}

// Verifies that a push at protocol 28 (no item flags on the wire, one phase) works.
TEST(PushEngine, FreshPushProtocol28)
{
    fresh_push(28);
}

// Verifies that files whose size and time match are not requested again.
TEST(PushEngine, UnchangedFilesAreNotRequested)
{
    for (const int protocol : {29, 32}) {
        Dest dest;
        dest.put("same.txt", "same\n", kNewTime);
        dest.put("newer.txt", "other\n", kOldTime);
        PushClient c(dest, options_for(protocol));
        c.send_lists({dir("."), file("same.txt", "same\n"), file("newer.txt", "newer\n")});
        ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
        EngineRun& run = c.finish();
        ASSERT_TRUE(run.result) << run.error_text;
        EXPECT_EQ(c.transferred_names(0), (std::vector<std::string>{"newer.txt"})) << protocol;
        EXPECT_EQ(dest.content("newer.txt"), "newer\n");
        EXPECT_EQ(dest.stat_of("newer.txt").st_mtime, kNewTime);
    }
}

// Verifies that a changed file is requested with its basis's block sums and rebuilt from
// the blocks the sender matched plus its literal data.
TEST(PushEngine, DeltaAgainstBasis)
{
    for (const int protocol : {29, 30, 32}) {
        Dest dest;
        const std::string old_content = pseudo_random(120000, 11);
        std::string new_content = old_content;
        new_content.replace(60000, 700, pseudo_random(700, 12));
        new_content += "tail";
        dest.put("data.bin", old_content, kOldTime);
        PushClient c(dest, options_for(protocol));
        c.send_lists({dir("."), file("data.bin", new_content)});
        ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
        EngineRun& run = c.finish();
        ASSERT_TRUE(run.result) << run.error_text;
        ASSERT_EQ(c.transfers().size(), 1u);
        const protocol::SumHead& h = c.transfers()[0].head;
        EXPECT_GT(h.count, 0);
        EXPECT_EQ(h.file_length(), static_cast<std::int64_t>(old_content.size()));
        EXPECT_GT(c.matched_bytes(), 100000) << protocol;
        EXPECT_LT(c.literal_bytes(), 5000) << protocol;
        EXPECT_EQ(dest.content("data.bin"), new_content);
        EXPECT_EQ(dest.stat_of("data.bin").st_mtime, kNewTime);
        c.save_seed("delta_p" + std::to_string(protocol), static_cast<std::uint8_t>(protocol - 28));
    }
}

// Verifies that a whole-file checksum mismatch discards the update and asks for the file
// again (in phase 1, or before its list is done with incremental lists) with full-length
// sums, and that the second copy is kept.
TEST(PushEngine, ChecksumMismatchIsRedone)
{
    for (const int protocol : {29, 30, 32}) {
        Dest dest;
        const std::string old_content = pseudo_random(50000, 21);
        std::string new_content = old_content;
        new_content[100] ^= 1;
        dest.put("x.bin", old_content, kOldTime);
        ReceiverOptions opt = options_for(protocol);
        opt.info_name = 1;
        PushClient c(dest, opt);
        c.send_lists({dir("."), file("x.bin", new_content), file("y.txt", "y\n")});
        Script s;
        s.corrupt_once.insert("x.bin");
        ASSERT_TRUE(c.serve(s)) << c.stop_reason() << " / " << c.finish().error_text;
        EngineRun& run = c.finish();
        ASSERT_TRUE(run.result) << run.error_text;
        EXPECT_EQ(run.result->exit_code, 0);
        // With incremental lists upstream redoes a list's files before calling it done,
        // so in phase 0; otherwise in phase 1.
        if (protocol >= 30) {
            EXPECT_EQ(c.transferred_names(0), (std::vector<std::string>{"x.bin", "x.bin", "y.txt"})) << protocol;
        } else {
            EXPECT_EQ(c.transferred_names(0), (std::vector<std::string>{"x.bin", "y.txt"})) << protocol;
            EXPECT_EQ(c.transferred_names(1), (std::vector<std::string>{"x.bin"})) << protocol;
        }
        ASSERT_EQ(c.transfers().size(), 3u);
        // The redo uses the full strong-sum length (upstream csum_length = SUM_LENGTH).
        EXPECT_EQ(c.transfers()[2].head.s2length, 16);
        EXPECT_LT(c.transfers()[0].head.s2length, 16);
        EXPECT_EQ(dest.content("x.bin"), new_content);
        c.save_seed("redo_p" + std::to_string(protocol), static_cast<std::uint8_t>(protocol - 28));
        EXPECT_NE(c.in().all_text().find("WARNING: x.bin failed verification -- update discarded (will try again).\n"),
                  std::string::npos)
            << c.in().all_text();
    }
}

// Verifies that a file failing verification twice is discarded with upstream's error and
// exit code 23, leaving the old file.
TEST(PushEngine, ChecksumMismatchTwiceIsPartialTransfer)
{
    Dest dest;
    dest.put("x.bin", "old old old\n", kOldTime);
    PushClient c(dest, options_for(31));
    c.send_lists({dir("."), file("x.bin", "new new new new\n")});
    Script s;
    s.corrupt_always.insert("x.bin");
    ASSERT_TRUE(c.serve(s)) << c.stop_reason() << " / " << c.finish().error_text;
    EngineRun& run = c.finish();
    ASSERT_TRUE(run.result) << run.error_text;
    EXPECT_EQ(run.result->exit_code, 23);
    EXPECT_EQ(dest.content("x.bin"), "old old old\n");
    EXPECT_NE(c.in().all_text().find("ERROR: x.bin failed verification -- update discarded.\n"), std::string::npos)
        << c.in().all_text();
    EXPECT_EQ(dest.listing(), (std::vector<std::string>{"x.bin"}));
}

// Verifies that a dry run requests the files without block sums and writes nothing.
TEST(PushEngine, DryRunWritesNothing)
{
    for (const int protocol : {29, 32}) {
        Dest dest;
        dest.put("old.txt", "old\n", kOldTime);
        ReceiverOptions opt = options_for(protocol);
        opt.dry_run = true;
        PushClient c(dest, opt);
        c.send_lists({dir("."), file("old.txt", "new\n"), file("n.txt", "n\n"), dir("d"), file("d/e.txt", "e")});
        ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
        EngineRun& run = c.finish();
        ASSERT_TRUE(run.result) << run.error_text;
        EXPECT_EQ(run.result->exit_code, 0);
        EXPECT_EQ(c.transferred_names(0), (std::vector<std::string>{"d/e.txt", "n.txt", "old.txt"})) << protocol;
        EXPECT_EQ(dest.listing(), (std::vector<std::string>{"old.txt"}));
        EXPECT_EQ(dest.content("old.txt"), "old\n");
        EXPECT_EQ(dest.stat_of("old.txt").st_mtime, kOldTime);
        c.save_seed("dry_p" + std::to_string(protocol), static_cast<std::uint8_t>((protocol - 28) | 8));
    }
}

// Verifies that a name the module excludes is refused (not written) with upstream's
// message, and the push ends with exit code 23 while the other files arrive.
TEST(PushEngine, DaemonExcludedNameIsPartialTransfer)
{
    for (const int protocol : {29, 32}) {
        Dest dest;
        PushClient c(dest, options_for(protocol), "secret.txt");
        c.send_lists({dir("."), file("ok.txt", "ok\n"), file("secret.txt", "no\n")});
        ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
        EngineRun& run = c.finish();
        ASSERT_TRUE(run.result) << run.error_text;
        EXPECT_EQ(run.result->exit_code, 23);
        EXPECT_FALSE(dest.exists("secret.txt"));
        EXPECT_EQ(dest.content("ok.txt"), "ok\n");
        EXPECT_NE(c.in().all_text().find("ERROR: daemon refused to receive file \"secret.txt\"\n"), std::string::npos)
            << c.in().all_text();
    }
}

// Verifies that the client's MSG_ERROR_EXIT ends the push with the client's code.
TEST(PushEngine, PeerErrorExit)
{
    Dest dest;
    PushClient c(dest, options_for(31));
    c.send_lists({dir("."), file("a.txt", "a\n")});
    c.message(MsgCode::ErrorExit, int32_le(11));
    c.flush();
    EngineRun& run = c.finish();
    ASSERT_TRUE(run.peer_exit) << run.error_text;
    EXPECT_EQ(*run.peer_exit, 11);
}

// Verifies that an index outside every list is refused with upstream's text.
TEST(PushEngine, BadIndexIsProtocolError)
{
    for (const int protocol : {29, 32}) {
        Dest dest;
        PushClient c(dest, options_for(protocol));
        c.send_lists({dir("."), file("a.txt", "a\n")});
        c.ndx(500);
        if (protocol >= 29) {
            std::string f;
            protocol::put_u16(f, static_cast<std::uint16_t>(kItemTransfer));
            c.data(f);
        }
        c.flush();
        EngineRun& run = c.finish();
        ASSERT_TRUE(run.error_code) << protocol;
        EXPECT_EQ(*run.error_code, ExitCode::Protocol);
        const std::string want = protocol >= 30 ? "File-list index 500 not in 0 - 2 (read_ndx_and_attrs) [receiver]"
                                                : "File-list index 500 not in -1 - 1 (read_ndx_and_attrs) [receiver]";
        EXPECT_EQ(run.error_text, want);
    }
}

// Verifies that a negative index is refused without incremental lists.
TEST(PushEngine, NegativeIndexWithoutIncrementalLists)
{
    Dest dest;
    PushClient c(dest, options_for(29));
    c.send_lists({dir("."), file("a.txt", "a\n")});
    c.data(int32_le(-7));
    c.flush();
    EngineRun& run = c.finish();
    ASSERT_TRUE(run.error_code);
    EXPECT_EQ(*run.error_code, ExitCode::Protocol);
    EXPECT_EQ(run.error_text, "Invalid file index: -7 (-1 - 1) [receiver]");
}

// Verifies that a transfer of a directory index is refused (upstream's non-regular check).
TEST(PushEngine, TransferOfDirectoryIsRefused)
{
    Dest dest;
    PushClient c(dest, options_for(32));
    c.send_lists({dir("."), file("a.txt", "a\n"), dir("d")});
    std::string f;
    c.ndx(c.index_of("d"));
    protocol::put_u16(f, static_cast<std::uint16_t>(kItemTransfer));
    c.data(f);
    c.flush();
    EngineRun& run = c.finish();
    ASSERT_TRUE(run.error_code);
    EXPECT_EQ(*run.error_code, ExitCode::Protocol);
    EXPECT_EQ(run.error_text,
              "received request to transfer non-regular file: " + std::to_string(c.index_of("d")) + " [receiver]");
}

// Verifies that sum headers with a negative count or an oversized block length are
// refused with upstream's texts, and nothing is written.
TEST(PushEngine, BadSumHeadsAreRefused)
{
    struct Case {
        protocol::SumHead head;
        std::string text;
    };
    const std::vector<Case> cases = {
        {{-5, 700, 2, 0}, "Invalid checksum count -5 [receiver]"},
        {{1, (128 << 10) + 1, 2, 0}, "Invalid block length 131073 [receiver]"},
        {{1, 700, 17, 0}, "Invalid checksum length 17 [receiver]"},
    };
    for (const Case& k : cases) {
        Dest dest;
        PushClient c(dest, options_for(32));
        c.send_lists({dir("."), file("a.txt", "a\n")});
        Script s;
        s.bad_head["a.txt"] = k.head;
        EXPECT_FALSE(c.serve(s));
        EngineRun& run = c.finish();
        ASSERT_TRUE(run.error_code) << k.text;
        EXPECT_EQ(*run.error_code, ExitCode::Protocol);
        EXPECT_EQ(run.error_text, k.text);
        EXPECT_FALSE(dest.exists("a.txt"));
        EXPECT_EQ(dest.listing(), std::vector<std::string>{});
    }
}

// Verifies that an oversized sub-list header (a directory index past the table) is
// refused before anything is read for it.
TEST(PushEngine, SublistHeaderPastDirectoryTable)
{
    Dest dest;
    PushClient c(dest, options_for(32));
    c.send_lists({dir("."), file("a.txt", "a\n")});
    // NDX_FLIST_OFFSET - 40: directory 40 of a table of one.
    c.ndx(protocol::kNdxFlistOffset - 40);
    c.flush();
    EngineRun& run = c.finish();
    ASSERT_TRUE(run.error_code);
    EXPECT_EQ(*run.error_code, ExitCode::Protocol);
    EXPECT_FALSE(run.error_text.empty());
}

// The generator's per-file decision under one option set: which names it requests.
std::vector<std::string> requested_with(void (*tweak)(ReceiverOptions&), Dest& dest)
{
    dest.put("same", "aaaa", kNewTime);
    dest.put("sizeonly", "bbbb", kOldTime);
    dest.put("sneaky", "CCCC", kNewTime);
    dest.put("newer", "DDDD", kNewTime + 100);
    ReceiverOptions opt = options_for(32);
    tweak(opt);
    PushClient c(dest, opt);
    c.send_lists({dir("."), file("same", "aaaa"), file("sizeonly", "bbbb"), file("sneaky", "cccc"),
                  file("newer", "dddd", kOldTime), file("missing", "eeee")});
    EXPECT_TRUE(c.serve()) << c.stop_reason();
    EngineRun& run = c.finish();
    EXPECT_TRUE(run.result) << run.error_text;
    return c.transferred_names(0);
}

using Names = std::vector<std::string>;

// Verifies the default quick check: size and time decide, content is not read.
TEST(PushGenerator, QuickCheckBySizeAndTime)
{
    Dest dest;
    EXPECT_EQ(requested_with([](ReceiverOptions&) {}, dest), (Names{"missing", "newer", "sizeonly"}));
    EXPECT_EQ(dest.content("sneaky"), "CCCC");
    EXPECT_EQ(dest.content("sizeonly"), "bbbb");
    EXPECT_EQ(dest.stat_of("sizeonly").st_mtime, kNewTime);
}

// Verifies that -I requests every file, even one whose size and time match.
TEST(PushGenerator, IgnoreTimesRequestsEverything)
{
    Dest dest;
    EXPECT_EQ(requested_with([](ReceiverOptions& o) { o.ignore_times = true; }, dest),
              (Names{"missing", "newer", "same", "sizeonly", "sneaky"}));
    EXPECT_EQ(dest.content("sneaky"), "cccc");
}

// Verifies that --size-only skips same-size files and still gives them the sender's time.
TEST(PushGenerator, SizeOnly)
{
    Dest dest;
    EXPECT_EQ(requested_with([](ReceiverOptions& o) { o.size_only = true; }, dest), (Names{"missing"}));
    EXPECT_EQ(dest.stat_of("sizeonly").st_mtime, kNewTime);
    EXPECT_EQ(dest.content("newer"), "DDDD");
}

// Verifies that -c compares content sums: equal content is skipped whatever the time,
// different content is requested even when size and time match.
TEST(PushGenerator, ChecksumCompare)
{
    Dest dest;
    EXPECT_EQ(requested_with(
                  [](ReceiverOptions& o) {
                      o.always_checksum = true;
                      o.flist.always_checksum = true;
                  },
                  dest),
              (Names{"missing", "newer", "sneaky"}));
    EXPECT_EQ(dest.content("sneaky"), "cccc");
    EXPECT_EQ(dest.stat_of("sizeonly").st_mtime, kNewTime);
}

// Verifies that -u leaves files that are newer in the module.
TEST(PushGenerator, UpdateOnlySkipsNewerDestination)
{
    Dest dest;
    EXPECT_EQ(requested_with([](ReceiverOptions& o) { o.update_only = true; }, dest), (Names{"missing", "sizeonly"}));
    EXPECT_EQ(dest.content("newer"), "DDDD");
}

// Verifies that --existing only updates files the module already has.
TEST(PushGenerator, ExistingOnly)
{
    Dest dest;
    EXPECT_EQ(requested_with([](ReceiverOptions& o) { o.ignore_non_existing = true; }, dest),
              (Names{"newer", "sizeonly"}));
    EXPECT_FALSE(dest.exists("missing"));
}

// Verifies that --ignore-existing only creates missing files.
TEST(PushGenerator, IgnoreExisting)
{
    Dest dest;
    EXPECT_EQ(requested_with([](ReceiverOptions& o) { o.ignore_existing = true; }, dest), (Names{"missing"}));
    EXPECT_EQ(dest.content("newer"), "DDDD");
    EXPECT_EQ(dest.content("missing"), "eeee");
}

// Verifies that --max-size and --min-size leave files outside the range alone.
TEST(PushGenerator, SizeLimits)
{
    Dest dest;
    ReceiverOptions opt = options_for(31);
    opt.max_size = 10;
    opt.min_size = 2;
    PushClient c(dest, opt);
    c.send_lists({dir("."), file("tiny", "t"), file("mid", "middle"), file("large", std::string(50, 'L'))});
    ASSERT_TRUE(c.serve()) << c.stop_reason();
    ASSERT_TRUE(c.finish().result);
    EXPECT_EQ(c.transferred_names(0), (Names{"mid"}));
    EXPECT_EQ(dest.listing(), (Names{"mid"}));
}

// Verifies that -W sends no block sums although a basis exists.
TEST(PushReceiver, WholeFileIgnoresBasis)
{
    Dest dest;
    const std::string old_content = pseudo_random(30000, 5);
    dest.put("w.bin", old_content, kOldTime);
    ReceiverOptions opt = options_for(32);
    opt.whole_file = true;
    PushClient c(dest, opt);
    c.send_lists({dir("."), file("w.bin", old_content + "more")});
    ASSERT_TRUE(c.serve()) << c.stop_reason();
    ASSERT_TRUE(c.finish().result);
    ASSERT_EQ(c.transfers().size(), 1u);
    EXPECT_EQ(c.transfers()[0].head.count, 0);
    EXPECT_EQ(c.matched_bytes(), 0);
    EXPECT_EQ(dest.content("w.bin"), old_content + "more");
}

// Verifies that with a temp dir the file is built there and renamed into place, leaving
// the temp dir empty.
TEST(PushReceiver, TempDirIsUsedAndCleaned)
{
    Dest dest;
    dest.mkdir("tmpd");
    ReceiverOptions opt = options_for(32);
    opt.temp_dir = "tmpd";
    PushClient c(dest, opt);
    c.send_lists({dir("."), file("t.txt", "through the temp dir\n"), dir("tmpd")});
    ASSERT_TRUE(c.serve()) << c.stop_reason();
    EngineRun& run = c.finish();
    ASSERT_TRUE(run.result) << run.error_text;
    EXPECT_EQ(dest.content("t.txt"), "through the temp dir\n");
    EXPECT_TRUE(std::filesystem::is_empty(dest.root() + "/tmpd"));
}

// Verifies that without -p a new file gets the sender's permissions masked by the umask
// and an existing file keeps its own.
TEST(PushReceiver, PermissionsWithoutPreservePerms)
{
    Dest dest;
    dest.put("kept.txt", "old", kOldTime, 0600);
    ReceiverOptions opt = options_for(32);
    opt.preserve_perms = false;
    opt.umask = 027;
    PushClient c(dest, opt);
    c.send_lists({dir("."), file("new.txt", "n", kNewTime, 0666), file("kept.txt", "new", kNewTime, 0644)});
    ASSERT_TRUE(c.serve()) << c.stop_reason();
    ASSERT_TRUE(c.finish().result);
    EXPECT_EQ(dest.stat_of("new.txt").st_mode & 07777, 0640u);
    EXPECT_EQ(dest.stat_of("kept.txt").st_mode & 07777, 0600u);
    EXPECT_EQ(dest.content("kept.txt"), "new");
}

// Verifies that a symlink already pointing at the same target is left alone and one
// pointing elsewhere is replaced.
TEST(PushReceiver, SymlinksReplacedOnlyWhenDifferent)
{
    Dest dest;
    ASSERT_EQ(::symlink("same-target", (dest.root() + "/s1").c_str()), 0);
    ASSERT_EQ(::symlink("old-target", (dest.root() + "/s2").c_str()), 0);
    struct stat before = dest.stat_of("s1");
    PushClient c(dest, options_for(32));
    c.send_lists({dir("."), symlink_to("s1", "same-target"), symlink_to("s2", "new-target")});
    ASSERT_TRUE(c.serve()) << c.stop_reason();
    ASSERT_TRUE(c.finish().result);
    EXPECT_EQ(dest.link_target("s1"), "same-target");
    EXPECT_EQ(dest.stat_of("s1").st_ino, before.st_ino);
    EXPECT_EQ(dest.link_target("s2"), "new-target");
    EXPECT_EQ(dest.listing(), (Names{"s1", "s2"}));
}

// Verifies that a file in the way of a directory is replaced by the directory.
TEST(PushReceiver, FileInTheWayOfDirectory)
{
    Dest dest;
    dest.put("d", "I am a file", kOldTime);
    PushClient c(dest, options_for(30));
    c.send_lists({dir("."), dir("d"), file("d/inner", "inside")});
    ASSERT_TRUE(c.serve()) << c.stop_reason();
    ASSERT_TRUE(c.finish().result);
    EXPECT_TRUE(S_ISDIR(dest.stat_of("d").st_mode));
    EXPECT_EQ(dest.content("d/inner"), "inside");
}

// Verifies that --inplace rebuilds the file in its own inode from matched blocks and
// literal data, leaving no temp file.
TEST(PushWriteModes, InplaceKeepsTheInode)
{
    for (const int protocol : {29, 32}) {
        Dest dest;
        const std::string old_content = pseudo_random(60000, 31);
        std::string new_content = old_content;
        new_content.replace(30000, 100, pseudo_random(100, 32));
        new_content.resize(50000);
        dest.put("data.bin", old_content, kOldTime);
        const ino_t inode = dest.stat_of("data.bin").st_ino;
        ReceiverOptions opt = options_for(protocol);
        opt.inplace = true;
        PushClient c(dest, opt);
        c.send_lists({dir("."), file("data.bin", new_content)});
        ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
        ASSERT_TRUE(c.finish().result);
        EXPECT_GT(c.matched_bytes(), 40000);
        EXPECT_EQ(dest.content("data.bin"), new_content);
        EXPECT_EQ(dest.stat_of("data.bin").st_ino, inode);
        EXPECT_EQ(dest.stat_of("data.bin").st_mtime, kNewTime);
        EXPECT_EQ(dest.listing(), (Names{"data.bin"}));
    }
}

// Verifies that --append sends only what follows the module's shorter copy, and leaves
// files that are already as long alone.
TEST(PushWriteModes, AppendSendsOnlyTheTail)
{
    Dest dest;
    dest.put("log.txt", "line1\nline2\n", kOldTime);
    dest.put("full.txt", "XXXX", kOldTime);
    const ino_t inode = dest.stat_of("log.txt").st_ino;
    ReceiverOptions opt = options_for(32);
    opt.append_mode = 1;
    opt.inplace = true; // upstream's option parser implies it
    PushClient c(dest, opt);
    c.send_lists({dir("."), file("log.txt", "line1\nline2\nline3\n"), file("full.txt", "abcd")});
    ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
    ASSERT_TRUE(c.finish().result);
    EXPECT_EQ(c.transferred_names(0), (Names{"log.txt"}));
    EXPECT_EQ(c.literal_bytes(), 6);
    EXPECT_EQ(dest.content("log.txt"), "line1\nline2\nline3\n");
    EXPECT_EQ(dest.stat_of("log.txt").st_ino, inode);
    EXPECT_EQ(dest.content("full.txt"), "XXXX");
}

// Verifies that --append-verify notices a kept prefix that differs, and that the redo
// (never an append) fixes the whole file.
TEST(PushWriteModes, AppendVerifyRedoesOnMismatch)
{
    Dest dest;
    dest.put("v.txt", "WRONG\n", kOldTime);
    ReceiverOptions opt = options_for(31);
    opt.append_mode = 2;
    opt.inplace = true;
    opt.info_name = 1;
    PushClient c(dest, opt);
    c.send_lists({dir("."), file("v.txt", "right\nand more\n")});
    ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
    EngineRun& run = c.finish();
    ASSERT_TRUE(run.result) << run.error_text;
    EXPECT_EQ(run.result->exit_code, 0);
    EXPECT_EQ(c.transfers().size(), 2u);
    EXPECT_EQ(dest.content("v.txt"), "right\nand more\n");
    EXPECT_NE(c.in().all_text().find("WARNING: v.txt failed verification -- update retained (will try again).\n"),
              std::string::npos)
        << c.in().all_text();
}

// Verifies that a client that hangs up mid-file leaves the old file (or nothing) and no
// temp file without --partial, and what arrived under the file's name with --partial.
TEST(PushWriteModes, InterruptedTransferWithAndWithoutPartial)
{
    const std::string big = pseudo_random(40000, 41);
    for (const bool keep : {false, true}) {
        Dest dest;
        dest.put("keep.txt", "previous\n", kOldTime);
        ReceiverOptions opt = options_for(32);
        opt.keep_partial = keep;
        PushClient c(dest, opt);
        c.send_lists({dir("."), file("big.bin", big), file("keep.txt", "replacement\n")});
        Script s;
        s.cut_short["big.bin"] = 10000;
        s.cut_short["keep.txt"] = 5;
        EXPECT_FALSE(c.serve(s));
        EngineRun& run = c.finish();
        EXPECT_FALSE(run.result);
        if (keep) {
            EXPECT_TRUE(dest.content("big.bin") == big.substr(0, 10000) || dest.content("keep.txt") == "repla");
        } else {
            EXPECT_FALSE(dest.exists("big.bin"));
            EXPECT_EQ(dest.content("keep.txt"), "previous\n");
            EXPECT_EQ(dest.listing(), (Names{"keep.txt"}));
        }
    }
}

// Verifies that --partial-dir keeps an interrupted file in the partial dir, and that the
// next push uses it as the basis (announced with its basis type) and then removes it.
TEST(PushWriteModes, PartialDirHoldsAndResumes)
{
    const std::string big = pseudo_random(40000, 51);
    Dest dest;
    dest.mkdir("d");
    ReceiverOptions opt = options_for(32);
    opt.keep_partial = true;
    opt.partial_dir = ".rsync-partial";
    {
        PushClient c(dest, opt);
        c.send_lists({dir("."), dir("d"), file("d/big.bin", big)});
        Script s;
        s.cut_short["d/big.bin"] = 20000;
        EXPECT_FALSE(c.serve(s));
        c.finish();
    }
    EXPECT_FALSE(dest.exists("d/big.bin"));
    ASSERT_EQ(dest.content("d/.rsync-partial/big.bin"), big.substr(0, 20000));
    {
        PushClient c(dest, opt);
        c.send_lists({dir("."), dir("d"), file("d/big.bin", big)});
        ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
        ASSERT_TRUE(c.finish().result);
        ASSERT_EQ(c.transfers().size(), 1u);
        EXPECT_EQ(c.transfers()[0].basis_type, kBasisPartialDir);
        EXPECT_NE(c.transfers()[0].iflags & kItemBasisTypeFollows, 0u);
        EXPECT_EQ(c.transfers()[0].head.file_length(), 20000);
        EXPECT_GE(c.matched_bytes(), 19000);
    }
    EXPECT_EQ(dest.content("d/big.bin"), big);
    EXPECT_FALSE(dest.exists("d/.rsync-partial"));
}

// Verifies that --delay-updates puts every file in place only at the end, through the
// ".~tmp~" dir, which is gone afterwards.
TEST(PushWriteModes, DelayUpdates)
{
    for (const int protocol : {28, 29, 31}) {
        Dest dest;
        dest.mkdir("sub");
        dest.put("sub/old.txt", "old\n", kOldTime);
        ReceiverOptions opt = options_for(protocol);
        opt.flist.inc_recurse = false; // upstream turns it off for --delay-updates
        opt.delay_updates = true;
        opt.keep_partial = true;
        opt.partial_dir = ".~tmp~";
        PushClient c(dest, opt);
        c.send_lists({dir("."), file("top.txt", "top\n"), dir("sub"), file("sub/old.txt", "new!\n")});
        ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
        EngineRun& run = c.finish();
        ASSERT_TRUE(run.result) << run.error_text;
        EXPECT_EQ(dest.content("top.txt"), "top\n") << protocol;
        EXPECT_EQ(dest.content("sub/old.txt"), "new!\n") << protocol;
        EXPECT_EQ(dest.stat_of("sub/old.txt").st_mtime, kNewTime);
        EXPECT_FALSE(dest.exists(".~tmp~")) << protocol;
        EXPECT_FALSE(dest.exists("sub/.~tmp~")) << protocol;
    }
}

// Verifies that --sparse leaves holes for runs of zeros and --preallocate changes nothing
// in the result.
TEST(PushWriteModes, SparseAndPreallocate)
{
    std::string zeros(1 << 20, '\0');
    zeros += "end";
    Dest dest;
    ReceiverOptions opt = options_for(32);
    opt.sparse = true;
    opt.preallocate = true;
    PushClient c(dest, opt);
    c.send_lists({dir("."), file("holes.bin", zeros), file("plain.txt", pseudo_random(5000, 61))});
    ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
    ASSERT_TRUE(c.finish().result);
    EXPECT_EQ(dest.content("holes.bin"), zeros);
    EXPECT_EQ(dest.stat_of("holes.bin").st_size, static_cast<off_t>(zeros.size()));
    EXPECT_LT(dest.stat_of("holes.bin").st_blocks * 512, 512 * 1024);
    EXPECT_EQ(dest.content("plain.txt"), pseudo_random(5000, 61));
}

Src linked(std::string name, std::string content, std::int64_t inode)
{
    Src s = file(std::move(name), std::move(content));
    s.inode = inode;
    return s;
}

// Verifies that with -H one member of a hard-link group is transferred (the last in list
// order, as upstream picks it) and the others become links to it, reported as "hf" items
// naming it, also across incremental sub-lists.
TEST(PushHardLinks, GroupTransferredOnceThenLinked)
{
    for (const int protocol : {28, 29, 30, 32}) {
        Dest dest;
        ReceiverOptions opt = options_for(protocol);
        opt.flist.preserve_hard_links = true;
        opt.stdout_format_has_i = 1;
        PushClient c(dest, opt);
        c.send_lists({dir("."), linked("a", "shared\n", 7), linked("b", "shared\n", 7), file("lonely", "alone\n"),
                      dir("sub"), linked("sub/c", "shared\n", 7), linked("x1", "pair\n", 9), linked("x2", "pair\n", 9)});
        ASSERT_TRUE(c.serve()) << c.stop_reason() << " / " << c.finish().error_text;
        EngineRun& run = c.finish();
        ASSERT_TRUE(run.result) << run.error_text;
        EXPECT_EQ(run.result->exit_code, 0);
        // One member per group is sent: the last in list order (sub/c, whose sub-list comes
        // last: with incremental lists the generator waits for the lists first, as upstream).
        const Names sent = c.transferred_names(0);
        EXPECT_EQ(sent, (Names{"lonely", "sub/c", "x2"})) << protocol;
        const std::string leader = "sub/c";
        const ino_t group = dest.stat_of(leader).st_ino;
        EXPECT_EQ(dest.stat_of("a").st_ino, group) << protocol;
        EXPECT_EQ(dest.stat_of("b").st_ino, group) << protocol;
        EXPECT_EQ(dest.stat_of("sub/c").st_ino, group) << protocol;
        EXPECT_EQ(dest.stat_of("x1").st_ino, dest.stat_of("x2").st_ino) << protocol;
        EXPECT_NE(dest.stat_of("lonely").st_ino, group);
        EXPECT_EQ(dest.content("a"), "shared\n");
        // The seed's -I changes nothing on an empty module.
        c.save_seed("hlinks_p" + std::to_string(protocol), static_cast<std::uint8_t>((protocol - 28) | 0x40));
        if (protocol >= 29) {
            std::map<std::string, std::string> links;
            for (const Seen& s : c.items())
                if (s.iflags & kItemXnameFollows)
                    links[s.name] = s.xname;
            std::map<std::string, std::string> want{{"x1", "x2"}};
            for (const char* m : {"a", "b", "sub/c"})
                if (leader != m)
                    want[m] = leader;
            EXPECT_EQ(links, want) << protocol;
        }
    }
}

} // namespace
} // namespace ocr::transfer
