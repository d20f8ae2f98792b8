// SPDX-License-Identifier: MIT
// Drives a real Sender over a socketpair with a client scripted in the test: filter list,
// file lists, requests with and without block sums, phases, stats and the final goodbye.
#include "transfer/sender.hpp"

#include "protocol/checksum.hpp"
#include "protocol/flist_decoder.hpp"
#include "protocol/mux.hpp"
#include "protocol/ndx.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/sum_head.hpp"
#include "protocol/token_codec.hpp"
#include "protocol/wire.hpp"
#include "transfer/filter_source.hpp"
#include "transfer/itemize.hpp"
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
#include <thread>
#include <vector>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;
using protocol::MsgCode;

constexpr std::int32_t kSeed = 0x1234567;

std::string pseudo_random(std::size_t n, std::uint32_t seed)
{
    std::string s(n, '\0');
    for (auto& c : s) {
        seed = seed * 1103515245u + 12345u;
        c = static_cast<char>(seed >> 16);
    }
    return s;
}

void write_file(const std::string& path, const std::string& content)
{
    std::ofstream f(path, std::ios::binary);
    f << content;
}

std::string int32_le(std::int32_t v)
{
    std::string s;
    protocol::put_i32(s, v);
    return s;
}

std::span<const std::uint8_t> as_u8(const std::string& s)
{
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The module tree every test serves.
class Tree {
public:
    Tree()
    {
        char tmpl[] = "/tmp/ocr_sender_test_XXXXXX";
        root_ = ::mkdtemp(tmpl);
        small_ = "hello, sender\n";
        big_ = pseudo_random(100000, 7);
        deep_ = pseudo_random(3000, 9);
        write_file(root_ + "/a.txt", small_);
        write_file(root_ + "/big.bin", big_);
        std::filesystem::create_directory(root_ + "/sub");
        write_file(root_ + "/sub/c.txt", deep_);
        std::filesystem::create_directory(root_ + "/sub/deeper");
        write_file(root_ + "/sub/deeper/d.txt", "d\n");
    }
    ~Tree() { std::filesystem::remove_all(root_); }
    Tree(const Tree&) = delete;
    Tree& operator=(const Tree&) = delete;

    [[nodiscard]] const std::string& root() const { return root_; }
    [[nodiscard]] std::string content(const std::string& name) const
    {
        std::ifstream f(root_ + "/" + name, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(f), {});
    }
    [[nodiscard]] std::int64_t total_size() const
    {
        return static_cast<std::int64_t>(small_.size() + big_.size() + deep_.size() + 2);
    }

private:
    std::string root_;
    std::string small_;
    std::string big_;
    std::string deep_;
};

SenderOptions options_for(int protocol)
{
    SenderOptions o;
    o.flist.protocol = protocol;
    o.flist.varint_flags = protocol >= 30;
    o.flist.inc_recurse = protocol >= 30;
    o.flist.use_safe_inc_flist = protocol >= 31;
    o.flist.recurse = true;
    o.flist.checksum_len = 16;
    o.xfer_checksum = {protocol::ChecksumKind::Md5, protocol::SeedPlacement::Prepend};
    o.file_checksum = protocol::ChecksumKind::Md5;
    o.checksum_seed = kSeed;
    o.recurse = true;
    o.xfer_dirs = true; // upstream's option parser implies it with -r
    o.paths = {"."};
    return o;
}

// Runs a Sender on one end of a socketpair in its own thread.
class SenderRun {
public:
    SenderRun(const std::string& root, SenderOptions opt, int fd) : opt_(std::move(opt)), fd_(fd)
    {
        thread_ = std::thread([this, root] { body(root); });
    }
    ~SenderRun() { join(); }
    SenderRun(const SenderRun&) = delete;
    SenderRun& operator=(const SenderRun&) = delete;

    void join()
    {
        if (thread_.joinable())
            thread_.join();
    }

    std::optional<SenderResult> result;
    std::optional<ExitCode> error_code;
    std::string error_text;
    std::optional<int> peer_exit;
    std::vector<std::string> log;

private:
    void body(const std::string& root)
    {
        const int protocol = opt_.flist.protocol;
        Connection conn({fd_, std::chrono::seconds(5), 0, "sender", {}});
        conn.start_mux_out();
        if (protocol >= 30)
            conn.start_mux_in();
        Reporter report(conn, protocol, "sender",
                        [this](Reporter::LogLevel, std::string_view line) { log.emplace_back(line); });
        report.set_can_send(true);
        ModuleFs fs(UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY)));
        NoFilterFiles no_files;
        FilterOptions fo;
        fo.role = FilterSide::Sender;
        fo.protocol_version = protocol;
        fo.who = "sender";
        FilterSet filters(fo, no_files);
        Sender::Services services{conn,
                                  fs,
                                  filters,
                                  report,
                                  [](std::uint32_t) { return std::optional<std::string>(); },
                                  [](std::uint32_t) { return std::optional<std::string>(); },
                                  false,
                                  "mod",
                                  {},
                                  {}};
        try {
            Sender sender(opt_, std::move(services), nullptr);
            result = sender.run(WireFilterParams{});
            conn.flush();
        } catch (const protocol::ProtocolError& e) {
            error_code = e.code();
            error_text = e.what();
        } catch (const PeerExit& e) {
            peer_exit = e.code;
        } catch (const std::exception& e) {
            error_text = std::string("unexpected: ") + e.what();
        }
        ::shutdown(fd_, SHUT_RDWR);
    }

    SenderOptions opt_;
    int fd_;
    std::thread thread_;
};

// A scripted client (receiver + generator in one) for one session.
class Client {
public:
    Client(const Tree& tree, SenderOptions opt) : opt_(opt), protocol_(opt.flist.protocol)
    {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        fd_ = sv[0];
        // A broken sender must fail the test, not hang it.
        timeval tv{10, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        in_.emplace(fd_);
        run_.emplace(tree.root(), std::move(opt), sv[1]);
        server_fd_ = sv[1];
    }
    ~Client()
    {
        ::shutdown(fd_, SHUT_RDWR);
        run_.reset();
        ::close(fd_);
        ::close(server_fd_);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // --- writing -------------------------------------------------------------------
    void data(const std::string& bytes)
    {
        if (protocol_ >= 30)
            pending_ += protocol::encode_frame(MsgCode::Data, bytes);
        else
            pending_ += bytes;
    }
    void message(MsgCode code, const std::string& payload) { pending_ += protocol::encode_frame(code, payload); }
    void ndx(std::int32_t n)
    {
        std::string s;
        ndx_out_.put(s, n);
        data(s);
    }
    void request(std::int32_t n, std::uint32_t iflags)
    {
        std::string s;
        ndx_out_.put(s, n);
        if (protocol_ >= 29)
            protocol::put_u16(s, static_cast<std::uint16_t>(iflags));
        data(s);
    }
    // A transfer request with the block sums of @p basis (empty: no basis).
    void request_file(std::int32_t n, const std::string& basis, std::uint32_t extra_flags = 0)
    {
        request(n, kItemTransfer | extra_flags);
        std::string s;
        if (basis.empty()) {
            protocol::put_sum_head(s, protocol::SumHead{}, protocol_);
        } else {
            const auto head = protocol::sum_sizes_sqroot(
                {static_cast<std::int64_t>(basis.size()), 0, protocol_, 16, protocol::kShortSumLength});
            protocol::BlockChecksum strong(opt_.xfer_checksum, opt_.checksum_seed);
            put_block_sums(s, protocol::compute_block_sums(as_u8(basis), *head, strong), protocol_);
        }
        data(s);
        bases_[n] = basis;
    }
    void flush()
    {
        std::size_t pos = 0;
        while (pos < pending_.size()) {
            const ssize_t w = ::send(fd_, pending_.data() + pos, pending_.size() - pos, MSG_NOSIGNAL);
            ASSERT_GT(w, 0);
            pos += static_cast<std::size_t>(w);
        }
        pending_.clear();
    }
    void send_empty_filter_list()
    {
        data(int32_le(0));
        flush();
    }

    // --- reading -------------------------------------------------------------------
    protocol::FlistOptions flist_options() const { return opt_.flist; }

    void read_file_lists()
    {
        read_first_list();
        read_sub_lists();
    }
    void read_first_list() { lists_.push_back(decoder_.read_first_list(*in_)); }
    void read_sub_lists()
    {
        if (!opt_.flist.inc_recurse)
            return;
        for (;;) {
            const std::int32_t n = ndx_in_.get(*in_);
            if (n == protocol::kNdxFlistEof)
                break;
            ASSERT_LE(n, protocol::kNdxFlistOffset);
            const auto dir = protocol::dir_ndx_from_header(n, decoder_.dir_count(), "receiver");
            lists_.push_back(decoder_.read_sublist(*in_, dir));
        }
    }

    // The global index of @p name in the lists received.
    std::int32_t index_of(const std::string& name) const
    {
        for (const auto& l : lists_)
            for (std::size_t i = 0; i < l.entries.size(); ++i)
                if (l.entries[i].name == name)
                    return l.ndx_start + static_cast<std::int32_t>(i);
        ADD_FAILURE() << "no entry " << name;
        return 0;
    }
    const protocol::FileEntry& entry(const std::string& name) const
    {
        for (const auto& l : lists_)
            for (const auto& e : l.entries)
                if (e.name == name)
                    return e;
        throw std::runtime_error("no entry " + name);
    }
    [[nodiscard]] std::size_t list_count() const { return lists_.size(); }
    // Every name received, list by list, in each list's order.
    [[nodiscard]] std::vector<std::string> all_names() const
    {
        std::vector<std::string> names;
        for (const auto& l : lists_)
            for (const auto& e : l.entries)
                names.push_back(e.name);
        return names;
    }

    std::int32_t read_ndx() { return ndx_in_.get(*in_); }
    std::uint16_t read_u16() { return protocol::get_u16(*in_); }

    struct Reply {
        std::int32_t ndx = 0;
        std::uint16_t iflags = 0;
        protocol::SumHead head;
        std::string data;
        std::string checksum;
        std::int64_t literal = 0;
        std::int64_t matched = 0;
    };
    // Reads the sender's reply to a transfer request: echo, sum head, tokens, checksum.
    Reply read_file_reply()
    {
        Reply r;
        r.ndx = read_ndx();
        r.iflags = protocol_ >= 29 ? read_u16() : 0;
        r.head = protocol::get_sum_head(*in_, {protocol_, 16, "receiver"});
        const std::string& basis = bases_[r.ndx];
        auto dec = protocol::make_token_decoder({protocol::Compression::None, 0, protocol_});
        dec->begin_file({r.head.count, r.head.blength, r.head.remainder});
        for (;;) {
            const protocol::Token t = dec->next(*in_);
            if (t.kind == protocol::Token::Kind::End)
                break;
            if (t.kind == protocol::Token::Kind::Literal) {
                r.data.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
                r.literal += static_cast<std::int64_t>(t.data.size());
            } else {
                const auto off = static_cast<std::size_t>(t.block) * static_cast<std::size_t>(r.head.blength);
                const std::string block = basis.substr(off, static_cast<std::size_t>(t.length));
                r.data += block;
                r.matched += t.length;
                dec->see_block(std::span<const std::byte>(reinterpret_cast<const std::byte*>(block.data()), block.size()));
            }
        }
        r.checksum.resize(16);
        in_->read_exact(std::span<std::byte>(reinterpret_cast<std::byte*>(r.checksum.data()), 16));
        return r;
    }

    std::vector<std::int64_t> read_stats()
    {
        std::vector<std::int64_t> v;
        const int n = protocol_ >= 29 ? 5 : 3;
        for (int i = 0; i < n; ++i)
            v.push_back(protocol_ >= 30 ? protocol::get_varlong(*in_, 3) : protocol::get_longint(*in_));
        return v;
    }

    std::string whole_file_sum(const std::string& content) const
    {
        auto sum = protocol::FileChecksum::for_transfer(opt_.xfer_checksum.kind, opt_.checksum_seed);
        sum.update(as_u8(content));
        std::string out(sum.length(), '\0');
        sum.finish(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(out.data()), out.size()));
        return out;
    }

    // The NDX_DONE exchange after the requests: one per live list (incremental), then
    // the phases, then the goodbye. Returns how many NDX_DONE the sender wrote back.
    void send_all_dones()
    {
        const std::size_t per_list = opt_.flist.inc_recurse ? lists_.size() - 1 : 0;
        for (std::size_t i = 0; i < per_list + 3; ++i)
            ndx(protocol::kNdxDone);
        flush();
    }
    void send_goodbye()
    {
        if (protocol_ >= 29)
            ndx(protocol::kNdxDone);
        else
            data(int32_le(protocol::kNdxDone));
        if (protocol_ >= 31)
            ndx(protocol::kNdxDone);
        flush();
    }

    test::DemuxReader& in() { return *in_; }
    SenderRun& run() { return *run_; }
    void finish_sender() { run_->join(); }

private:
    SenderOptions opt_;
    int protocol_;
    int fd_ = -1;
    int server_fd_ = -1;
    std::string pending_;
    protocol::NdxEncoder ndx_out_{opt_.flist.protocol};
    protocol::NdxDecoder ndx_in_{opt_.flist.protocol, "receiver"};
    protocol::FlistDecoder decoder_{opt_.flist, "Receiver"};
    std::vector<protocol::DecodedList> lists_;
    std::map<std::int32_t, std::string> bases_;
    std::optional<test::DemuxReader> in_;
    std::optional<SenderRun> run_;
};

// A basis that shares most blocks with @p src: a changed middle and a cut tail.
std::string edited(const std::string& src)
{
    std::string b = src;
    b.replace(b.size() / 2, 500, pseudo_random(500, 99));
    b.resize(b.size() - 3000);
    return b;
}

// The full transfer both protocols share: three files requested (one with a basis), one
// directory itemized, then the phases, stats and goodbye.
void full_pull(int protocol)
{
    Tree tree;
    const SenderOptions opt = options_for(protocol);
    Client c(tree, opt);
    c.send_empty_filter_list();
    c.read_file_lists();
    // Incremental: the lists of ".", "sub" and "sub/deeper".
    EXPECT_EQ(c.list_count(), protocol >= 30 ? 3u : 1u);
    const std::int32_t a = c.index_of("a.txt");
    const std::int32_t big = c.index_of("big.bin");
    const std::int32_t cc = c.index_of("sub/c.txt");
    const std::int32_t dir = c.index_of("sub");
    const std::string big_basis = edited(tree.content("big.bin"));

    c.request_file(a, "");
    c.request_file(big, big_basis);
    c.request(dir, kItemReportTime | kItemIsNew);
    c.request_file(cc, "", kItemIsNew);
    c.send_all_dones();

    const Client::Reply ra = c.read_file_reply();
    EXPECT_EQ(ra.ndx, a);
    EXPECT_EQ(ra.iflags, kItemTransfer);
    EXPECT_EQ(ra.head, protocol::SumHead{});
    EXPECT_EQ(ra.data, tree.content("a.txt"));
    EXPECT_EQ(ra.checksum, c.whole_file_sum(tree.content("a.txt")));

    const Client::Reply rb = c.read_file_reply();
    EXPECT_EQ(rb.ndx, big);
    EXPECT_GT(rb.head.count, 0);
    EXPECT_EQ(rb.data, tree.content("big.bin"));
    EXPECT_EQ(rb.checksum, c.whole_file_sum(tree.content("big.bin")));
    EXPECT_GT(rb.matched, 50000);
    EXPECT_GE(rb.literal, 3500);

    // The itemized directory comes back as it was sent.
    EXPECT_EQ(c.read_ndx(), dir);
    EXPECT_EQ(c.read_u16(), kItemReportTime | kItemIsNew);

    const Client::Reply rc = c.read_file_reply();
    EXPECT_EQ(rc.ndx, cc);
    EXPECT_EQ(rc.iflags, kItemTransfer | kItemIsNew);
    EXPECT_EQ(rc.data, tree.content("sub/c.txt"));

    // One NDX_DONE per retired list but the last, one per phase, one at the end.
    const std::size_t expected_dones = (protocol >= 30 ? c.list_count() - 1 : 0) + 3;
    for (std::size_t i = 0; i < expected_dones; ++i)
        EXPECT_EQ(c.read_ndx(), protocol::kNdxDone) << i;
    const auto stats = c.read_stats();
    EXPECT_EQ(stats[2], tree.total_size());
    EXPECT_GT(stats[0], 0);
    EXPECT_GT(stats[1], 0);
    c.send_goodbye();
    if (protocol >= 31) {
        EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    }
    c.finish_sender();
    EXPECT_TRUE(c.in().drain_to_eof());
    EXPECT_TRUE(c.in().messages.empty());
    ASSERT_TRUE(c.run().result) << c.run().error_text;
    EXPECT_EQ(c.run().result->exit_code, 0);
    EXPECT_EQ(c.run().result->total_size, tree.total_size());
    EXPECT_FALSE(c.run().result->input_abandoned);
}

// Verifies that a protocol-32 pull with incremental recursion delivers files byte for byte,
// with matched blocks for a basis, the whole-file sum, the NDX_DONE sequence and stats.
TEST(Sender, FullPullProtocol32)
{
    full_pull(32);
}

// Verifies the same pull at protocol 30 (incremental recursion, one goodbye NDX_DONE).
TEST(Sender, FullPullProtocol30)
{
    full_pull(30);
}

// Verifies the same pull at protocol 29: unframed client input, int32 indexes, longint stats.
TEST(Sender, FullPullProtocol29)
{
    full_pull(29);
}

// Verifies that -c puts each regular file's whole-file MD5 into the file list.
TEST(Sender, AlwaysChecksumSendsFileSums)
{
    Tree tree;
    SenderOptions opt = options_for(31);
    opt.always_checksum = true;
    opt.flist.always_checksum = true;
    Client c(tree, opt);
    c.send_empty_filter_list();
    c.read_file_lists();
    for (const char* name : {"a.txt", "big.bin", "sub/c.txt"}) {
        auto sum = protocol::FileChecksum::for_file_list(protocol::ChecksumKind::Md5);
        const std::string content = tree.content(name);
        sum.update(as_u8(content));
        std::string expected(16, '\0');
        sum.finish(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(expected.data()), 16));
        EXPECT_EQ(c.entry(name).checksum, expected) << name;
    }
    c.send_all_dones();
    for (std::size_t i = 0; i < c.list_count() - 1 + 3; ++i)
        EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.read_stats();
    c.send_goodbye();
    EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.finish_sender();
    ASSERT_TRUE(c.run().result) << c.run().error_text;
    EXPECT_EQ(c.run().result->exit_code, 0);
}

// Verifies that a dry run (!do_xfers) echoes a transfer request without reading sums or
// sending data.
TEST(Sender, DryRunEchoesWithoutSums)
{
    Tree tree;
    SenderOptions opt = options_for(31);
    opt.dry_run = true;
    Client c(tree, opt);
    c.send_empty_filter_list();
    c.read_file_lists();
    const std::int32_t big = c.index_of("big.bin");
    c.request(big, kItemTransfer | kItemIsNew);
    c.send_all_dones();
    EXPECT_EQ(c.read_ndx(), big);
    EXPECT_EQ(c.read_u16(), kItemTransfer | kItemIsNew);
    // Had the sender read a sum head, it would have taken our NDX_DONEs as one.
    for (std::size_t i = 0; i < c.list_count() - 1 + 3; ++i)
        EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    const auto stats = c.read_stats();
    EXPECT_EQ(stats[2], tree.total_size());
    c.send_goodbye();
    EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.finish_sender();
    ASSERT_TRUE(c.run().result) << c.run().error_text;
    EXPECT_EQ(c.run().result->exit_code, 0);
}

// Verifies that a file that vanished after the list was sent yields upstream's warning,
// MSG_NO_SEND with its index, MSG_IO_ERROR with the vanished bit, and exit code 24.
TEST(Sender, VanishedFileSendsNoSend)
{
    Tree tree;
    const SenderOptions opt = options_for(31);
    Client c(tree, opt);
    c.send_empty_filter_list();
    c.read_file_lists();
    const std::int32_t a = c.index_of("a.txt");
    ASSERT_EQ(::unlink((tree.root() + "/a.txt").c_str()), 0);
    c.request_file(a, "");
    c.send_all_dones();
    for (std::size_t i = 0; i < c.list_count() - 1 + 3; ++i)
        EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.read_stats();
    c.send_goodbye();
    EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.finish_sender();
    EXPECT_TRUE(c.in().drain_to_eof());
    EXPECT_EQ(c.in().texts(MsgCode::Warning), std::vector<std::string>{"file has vanished: \"a.txt\" (in mod)\n"});
    EXPECT_EQ(c.in().texts(MsgCode::NoSend), std::vector<std::string>{int32_le(a)});
    EXPECT_EQ(c.in().texts(MsgCode::IoError), std::vector<std::string>{int32_le(kIoErrorVanished)});
    ASSERT_TRUE(c.run().result) << c.run().error_text;
    EXPECT_EQ(c.run().result->exit_code, 24);
}

// Verifies that a missing source argument ends the run with 23 through the transfer error
// alone (upstream: link_stat's FERROR_XFER sets got_xfer_error, no io_error bit for ENOENT).
TEST(Sender, MissingArgumentIsPartialTransfer)
{
    Tree tree;
    SenderOptions opt = options_for(31);
    opt.paths = {".", "no-such-file"};
    Client c(tree, opt);
    c.send_empty_filter_list();
    c.read_file_lists();
    c.send_all_dones();
    for (std::size_t i = 0; i < c.list_count() - 1 + 3; ++i)
        EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.read_stats();
    c.send_goodbye();
    EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.finish_sender();
    EXPECT_TRUE(c.in().drain_to_eof());
    EXPECT_EQ(c.in().texts(MsgCode::ErrorXfer),
              std::vector<std::string>{"rsync: [sender] link_stat \"no-such-file\" (in mod) failed: No such file or directory (2)\n"});
    EXPECT_TRUE(c.in().texts(MsgCode::IoError).empty());
    ASSERT_TRUE(c.run().result) << c.run().error_text;
    EXPECT_EQ(c.run().result->exit_code, 23);
}

// Verifies that with -R and incremental recursion a source two directories deep sends each
// implied directory once, and the deeper one inside its parent's sub-list: a 3.1+ client
// aborts ("invalid path from sender") on a sub-list entry outside its directory, as the
// decoder does here (upstream: flist.c:send1extra starts after the directory's own name).
TEST(Sender, RelativeDeepSourceSendsImpliedDirsOnce)
{
    Tree tree;
    SenderOptions opt = options_for(32);
    opt.relative_paths = true;
    opt.flist.relative_paths = true;
    opt.paths = {"sub/deeper/d.txt", "a.txt"};
    Client c(tree, opt);
    c.send_empty_filter_list();
    ASSERT_NO_THROW(c.read_file_lists());
    std::vector<std::string> names = c.all_names();
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "sub", "sub/deeper", "sub/deeper/d.txt"}));
    // ".", then the sub-lists of "sub" and "sub/deeper".
    EXPECT_EQ(c.list_count(), 3u);
    c.send_all_dones();
    for (std::size_t i = 0; i < c.list_count() - 1 + 3; ++i)
        EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.read_stats();
    c.send_goodbye();
    EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.finish_sender();
    EXPECT_TRUE(c.in().drain_to_eof());
    ASSERT_TRUE(c.run().result) << c.run().error_text;
    EXPECT_EQ(c.run().result->exit_code, 0);
}

// Ends a session whose lists were all read and nothing requested; returns the exit code.
int finish_without_requests(Client& c)
{
    c.send_all_dones();
    for (std::size_t i = 0; i < c.list_count() - 1 + 3; ++i)
        EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.read_stats();
    c.send_goodbye();
    c.finish_sender();
    EXPECT_TRUE(c.in().drain_to_eof());
    EXPECT_TRUE(c.run().result) << c.run().error_text;
    return c.run().result ? c.run().result->exit_code : -1;
}

// Verifies that for a protocol-30 client without the safe list trailer (3.0.0-3.0.6) and
// without incremental recursion, MSG_IO_ERROR arrives before the end of the file list, as
// upstream's send_msg puts it ahead of unflushed data: that client reads it before forking
// its generator, whose --delete then skips deleting instead of emptying directories.
TEST(Sender, IoErrorOvertakesFirstListForOldClient)
{
    Tree tree;
    std::filesystem::create_symlink("nowhere", tree.root() + "/dangling");
    SenderOptions opt = options_for(30);
    opt.flist.inc_recurse = false;
    opt.flist.use_safe_inc_flist = false;
    opt.links.copy_links = true;
    Client c(tree, opt);
    c.send_empty_filter_list();
    c.read_first_list();
    EXPECT_EQ(c.in().texts(MsgCode::IoError).size(), 1u);
    EXPECT_EQ(finish_without_requests(c), 23);
    EXPECT_EQ(c.in().texts(MsgCode::IoError), std::vector<std::string>{int32_le(1)});
}

// Verifies that with incremental recursion at protocol 30 the error of a sub-list built
// before the first flush (upstream send_files' first batch) reaches the client ahead of
// the first list, and so does the batch's MSG_IO_ERROR: a 3.0.x client then knows of it
// before its generator deletes anything (upstream: flist.c:send_extra_file_list).
TEST(Sender, SubListErrorOvertakesFirstListAtProtocol30)
{
    Tree tree;
    std::filesystem::create_symlink("nowhere", tree.root() + "/sub/deeper/dangling");
    SenderOptions opt = options_for(30);
    opt.flist.use_safe_inc_flist = true; // 3.0.7+ sends "f"
    opt.links.copy_links = true;
    Client c(tree, opt);
    c.send_empty_filter_list();
    c.read_first_list();
    EXPECT_EQ(c.in().texts(MsgCode::IoError).size(), 1u);
    EXPECT_EQ(c.in().texts(MsgCode::ErrorXfer).size(), 1u);
    c.read_sub_lists();
    EXPECT_EQ(finish_without_requests(c), 23);
    EXPECT_EQ(c.in().texts(MsgCode::ErrorXfer),
              std::vector<std::string>{"symlink has no referent: \"sub/deeper/dangling\" (in mod)\n"});
}

// Verifies that below protocol 30 a vanished file is only reported (no MSG_NO_SEND exists)
// and warnings travel as MSG_INFO.
TEST(Sender, VanishedFileProtocol29)
{
    Tree tree;
    const SenderOptions opt = options_for(29);
    Client c(tree, opt);
    c.send_empty_filter_list();
    c.read_file_lists();
    const std::int32_t a = c.index_of("a.txt");
    ASSERT_EQ(::unlink((tree.root() + "/a.txt").c_str()), 0);
    c.request_file(a, "");
    c.send_all_dones();
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.read_stats();
    c.send_goodbye();
    c.finish_sender();
    EXPECT_TRUE(c.in().drain_to_eof());
    EXPECT_EQ(c.in().texts(MsgCode::Info), std::vector<std::string>{"file has vanished: \"a.txt\" (in mod)\n"});
    EXPECT_TRUE(c.in().texts(MsgCode::NoSend).empty());
    EXPECT_TRUE(c.in().texts(MsgCode::IoError).empty());
    ASSERT_TRUE(c.run().result) << c.run().error_text;
    EXPECT_EQ(c.run().result->exit_code, 24);
}

// Verifies upstream's text and exit code for an index beyond every list
// (rsync.c:flist_for_ndx called from read_ndx_and_attrs).
TEST(Sender, IndexBeyondListsIsProtocolError)
{
    Tree tree;
    const SenderOptions opt = options_for(29);
    Client c(tree, opt);
    c.send_empty_filter_list();
    c.read_file_lists();
    c.request(999, kItemTransfer);
    c.flush();
    c.finish_sender();
    EXPECT_EQ(c.run().error_code, ExitCode::Protocol);
    // Non-incremental: one list, indexes 0..7 ("." a.txt big.bin sub sub/c.txt sub/deeper
    // sub/deeper/d.txt = 7 entries, 0..6).
    EXPECT_EQ(c.run().error_text, "File-list index 999 not in -1 - 6 (read_ndx_and_attrs) [sender]");
}

// Verifies upstream's text for a negative index that is not a special value.
TEST(Sender, NegativeIndexIsProtocolError)
{
    Tree tree;
    const SenderOptions opt = options_for(29);
    Client c(tree, opt);
    c.send_empty_filter_list();
    c.read_file_lists();
    c.data(int32_le(-7));
    c.flush();
    c.finish_sender();
    EXPECT_EQ(c.run().error_code, ExitCode::Protocol);
    EXPECT_EQ(c.run().error_text, "Invalid file index: -7 (-1 - 6) [sender]");
}

// Verifies the same texts with incremental recursion (lists start at 1, the last list's
// last index bounds the range).
TEST(Sender, InvalidIndexesWithIncrementalLists)
{
    Tree tree;
    {
        Client c(tree, options_for(32));
        c.send_empty_filter_list();
        c.read_file_lists();
        const std::int32_t last = c.index_of("sub/deeper/d.txt");
        c.request(last + 50, kItemTransfer);
        c.flush();
        c.finish_sender();
        EXPECT_EQ(c.run().error_code, ExitCode::Protocol);
        // The first list starts at 1; its parent slot 0 is the lowest index.
        EXPECT_EQ(c.run().error_text, "File-list index " + std::to_string(last + 50) + " not in 0 - " +
                                          std::to_string(last) + " (read_ndx_and_attrs) [sender]");
    }
    {
        Client c(tree, options_for(32));
        c.send_empty_filter_list();
        c.read_file_lists();
        const std::int32_t last = c.index_of("sub/deeper/d.txt");
        c.ndx(-5);
        c.flush();
        c.finish_sender();
        EXPECT_EQ(c.run().error_code, ExitCode::Protocol);
        EXPECT_EQ(c.run().error_text, "Invalid file index: -5 (-1 - " + std::to_string(last) + ") [sender]");
    }
}

// Verifies that a transfer request for a directory ends the session as upstream does.
TEST(Sender, TransferRequestForDirectoryIsRefused)
{
    Tree tree;
    Client c(tree, options_for(31));
    c.send_empty_filter_list();
    c.read_file_lists();
    const std::int32_t dir = c.index_of("sub");
    c.request(dir, kItemTransfer);
    c.flush();
    c.finish_sender();
    EXPECT_EQ(c.run().error_code, ExitCode::Protocol);
    EXPECT_EQ(c.run().error_text, "received request to transfer non-regular file: " + std::to_string(dir) + " [sender]");
}

// Verifies that a client's MSG_ERROR_EXIT ends the sender with PeerExit and, at 31+,
// is answered with an empty MSG_ERROR_EXIT.
TEST(Sender, ClientErrorExitEndsSession)
{
    Tree tree;
    Client c(tree, options_for(31));
    c.send_empty_filter_list();
    c.read_file_lists();
    c.message(MsgCode::ErrorExit, int32_le(23));
    c.flush();
    c.finish_sender();
    ASSERT_TRUE(c.run().peer_exit) << c.run().error_text;
    EXPECT_EQ(*c.run().peer_exit, 23);
    c.in().drain_to_eof();
    EXPECT_EQ(c.in().texts(MsgCode::ErrorExit), std::vector<std::string>{""});
}

// Verifies that at protocol 30 the client's MSG_ERROR_EXIT is not answered.
TEST(Sender, ClientErrorExitProtocol30NotAnswered)
{
    Tree tree;
    Client c(tree, options_for(30));
    c.send_empty_filter_list();
    c.read_file_lists();
    c.message(MsgCode::ErrorExit, int32_le(12));
    c.flush();
    c.finish_sender();
    ASSERT_TRUE(c.run().peer_exit) << c.run().error_text;
    EXPECT_EQ(*c.run().peer_exit, 12);
    c.in().drain_to_eof();
    EXPECT_TRUE(c.in().texts(MsgCode::ErrorExit).empty());
}

// Verifies upstream's texts for messages a sender does not accept: a known tag meant for
// another process ("invalid multi-message", with "/inc" while recursing incrementally) and
// an unknown tag ("unexpected tag").
TEST(Sender, UnacceptedMessagesAreStreamErrors)
{
    Tree tree;
    {
        Client c(tree, options_for(31));
        c.send_empty_filter_list();
        c.read_file_lists();
        c.message(MsgCode::Redo, int32_le(1));
        c.flush();
        c.finish_sender();
        EXPECT_EQ(c.run().error_code, ExitCode::StreamIo);
        EXPECT_EQ(c.run().error_text, "invalid multi-message 9:4 [sender/inc]");
    }
    {
        Client c(tree, options_for(31));
        c.send_empty_filter_list();
        c.read_file_lists();
        c.message(static_cast<MsgCode>(50), "");
        c.flush();
        c.finish_sender();
        EXPECT_EQ(c.run().error_code, ExitCode::StreamIo);
        EXPECT_EQ(c.run().error_text, "unexpected tag 50 [sender/inc]");
    }
}

// Verifies that a client's MSG_INFO is logged and passed back, MSG_NO_SEND is passed back,
// MSG_DELETED and MSG_NOOP are accepted, and the session still completes.
TEST(Sender, AcceptedClientMessages)
{
    Tree tree;
    Client c(tree, options_for(31));
    c.send_empty_filter_list();
    c.read_file_lists();
    c.message(MsgCode::Info, "client says hi\n");
    c.message(MsgCode::NoSend, int32_le(3));
    c.message(MsgCode::Deleted, "gone.txt");
    c.message(MsgCode::Noop, "");
    c.send_all_dones();
    for (std::size_t i = 0; i < c.list_count() - 1 + 3; ++i)
        EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.read_stats();
    c.send_goodbye();
    EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.finish_sender();
    ASSERT_TRUE(c.run().result) << c.run().error_text;
    EXPECT_EQ(c.in().texts(MsgCode::Info), std::vector<std::string>{"client says hi\n"});
    EXPECT_EQ(c.in().texts(MsgCode::NoSend), std::vector<std::string>{int32_le(3)});
    EXPECT_NE(std::find(c.run().log.begin(), c.run().log.end(), "client says hi"), c.run().log.end());
}

// Verifies that a protocol-29 client's keep-alive (index = list length, ITEM_IS_NEW only)
// is skipped as upstream's read_ndx_and_attrs does.
TEST(Sender, Protocol29KeepAliveIsSkipped)
{
    Tree tree;
    Client c(tree, options_for(29));
    c.send_empty_filter_list();
    c.read_file_lists();
    const std::int32_t d = c.index_of("sub/deeper/d.txt");
    c.request(d + 1, kItemIsNew);
    c.request_file(d, "");
    c.send_all_dones();
    const Client::Reply r = c.read_file_reply();
    EXPECT_EQ(r.ndx, d);
    EXPECT_EQ(r.data, "d\n");
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.read_stats();
    c.send_goodbye();
    c.finish_sender();
    ASSERT_TRUE(c.run().result) << c.run().error_text;
    EXPECT_EQ(c.run().result->exit_code, 0);
}

// Verifies that a second request for a file already sent (the redo phase) sends it again
// and that the end of phase 1 is followed by a transfer-free phase 2.
TEST(Sender, RedoPhaseResendsFile)
{
    Tree tree;
    Client c(tree, options_for(29));
    c.send_empty_filter_list();
    c.read_file_lists();
    const std::int32_t big = c.index_of("big.bin");
    const std::string basis = edited(tree.content("big.bin"));
    c.request_file(big, basis);
    c.ndx(protocol::kNdxDone); // phase 1: redo requests follow
    c.request_file(big, basis);
    c.ndx(protocol::kNdxDone);
    c.ndx(protocol::kNdxDone);
    c.flush();
    const Client::Reply first = c.read_file_reply();
    EXPECT_EQ(first.data, tree.content("big.bin"));
    EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    const Client::Reply again = c.read_file_reply();
    EXPECT_EQ(again.data, tree.content("big.bin"));
    EXPECT_EQ(again.head, first.head);
    EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    EXPECT_EQ(c.read_ndx(), protocol::kNdxDone);
    c.read_stats();
    c.send_goodbye();
    c.finish_sender();
    ASSERT_TRUE(c.run().result) << c.run().error_text;
    EXPECT_EQ(c.run().result->exit_code, 0);
}

// Verifies that a transfer request in phase 2 is refused with upstream's text.
TEST(Sender, TransferInPhase2IsRefused)
{
    Tree tree;
    Client c(tree, options_for(29));
    c.send_empty_filter_list();
    c.read_file_lists();
    c.ndx(protocol::kNdxDone);
    c.ndx(protocol::kNdxDone);
    c.request_file(c.index_of("a.txt"), "");
    c.flush();
    c.finish_sender();
    EXPECT_EQ(c.run().error_code, ExitCode::Protocol);
    EXPECT_EQ(c.run().error_text, "got transfer request in phase 2 [sender]");
}

// Verifies that the final goodbye must be NDX_DONE (upstream main.c:read_final_goodbye).
TEST(Sender, BadGoodbyeIsProtocolError)
{
    Tree tree;
    Client c(tree, options_for(29));
    c.send_empty_filter_list();
    c.read_file_lists();
    c.send_all_dones();
    c.request(2, kItemIsNew);
    c.flush();
    c.finish_sender();
    EXPECT_EQ(c.run().error_code, ExitCode::Protocol);
    EXPECT_EQ(c.run().error_text, "Invalid packet at end of run (2) [sender]");
}

// Verifies that an empty file list ends the sender at once, abandoning its input.
TEST(Sender, EmptyListAbandonsInput)
{
    Tree tree;
    SenderOptions opt = options_for(29);
    opt.paths = {"no-such-file"};
    Client c(tree, opt);
    c.send_empty_filter_list();
    c.read_file_lists();
    c.finish_sender();
    ASSERT_TRUE(c.run().result) << c.run().error_text;
    EXPECT_TRUE(c.run().result->input_abandoned);
    EXPECT_TRUE(c.in().drain_to_eof());
    EXPECT_EQ(c.in().texts(MsgCode::ErrorXfer),
              std::vector<std::string>{
                  "rsync: [sender] link_stat \"no-such-file\" (in mod) failed: No such file or directory (2)\n"});
}

} // namespace
} // namespace ocr::transfer
