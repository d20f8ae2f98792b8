// SPDX-License-Identifier: MIT
// Tests of the receiver's rebuild of a file, fed by the real generator and sender pieces.
#include "transfer/delta_apply.hpp"

#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"
#include "transfer/basis_sums.hpp"
#include "transfer/delta_fixture.hpp"
#include "transfer/file_window.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

using protocol::ChecksumKind;
using protocol::Compression;
using protocol::SumHead;
using delta_fixture::Bytes;
using delta_fixture::cat;
using delta_fixture::prng;
using delta_fixture::slice;

/// A file in the test's temporary directory, removed at the end.
class TempFile {
public:
    explicit TempFile(const Bytes& content = {})
    {
        path_ = ::testing::TempDir() + "delta_apply_XXXXXX";
        fd_ = ::mkstemp(path_.data());
        if (fd_ < 0)
            throw std::runtime_error("mkstemp failed");
        write_all(content);
    }
    ~TempFile()
    {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    void write_all(const Bytes& content) const
    {
        if (::ftruncate(fd_, 0) != 0 ||
            ::pwrite(fd_, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size()))
            throw std::runtime_error("write failed");
    }
    [[nodiscard]] Bytes read_all() const
    {
        struct stat st{};
        ::fstat(fd_, &st);
        Bytes out(static_cast<std::size_t>(st.st_size));
        if (::pread(fd_, out.data(), out.size(), 0) != static_cast<ssize_t>(out.size()))
            throw std::runtime_error("read failed");
        return out;
    }
    [[nodiscard]] struct stat stat() const
    {
        struct stat st{};
        ::fstat(fd_, &st);
        return st;
    }

private:
    std::string path_;
    int fd_ = -1;
};

// The matcher's steps into a token encoder, as the sender does.
class EncoderSink final : public DeltaSink {
public:
    explicit EncoderSink(protocol::TokenEncoder& enc) : enc_(enc) {}
    void step(const DeltaStep& s) override
    {
        enc_.literal(std::as_bytes(s.literal));
        if (s.block >= 0)
            enc_.block(s.block, std::as_bytes(s.block_data));
    }

private:
    protocol::TokenEncoder& enc_;
};

// The same steps through TokenEncoder::step(), as the sender feeds them.
class StepSink final : public DeltaSink {
public:
    explicit StepSink(protocol::TokenEncoder& enc) : enc_(enc) {}
    void step(const DeltaStep& s) override
    {
        const std::int32_t index = s.block >= 0                   ? s.block
                                   : s.block == kTokenEndOfFile ? protocol::TokenEncoder::kStepEndOfFile
                                                                : protocol::TokenEncoder::kStepDataOnly;
        enc_.step(std::as_bytes(s.literal), index, std::as_bytes(s.block_data));
    }

private:
    protocol::TokenEncoder& enc_;
};

struct Session {
    Compression compression = Compression::None;
    int protocol = 32;
    ChecksumKind kind = ChecksumKind::Md5;
    std::int32_t seed = 0x1234567;
};

struct Delta {
    SumHead head;
    std::string wire; ///< tokens plus the whole-file sum
    MatchStats stats;
};

/// Generator then sender: sums of @p basis through write_basis_sums, read back as the sender
/// reads them, matched against @p target and encoded.
Delta make_delta(const Bytes& basis, const Bytes& target, const Session& s, protocol::TokenEncoder& enc,
                 protocol::MemorySink& wire, MatchOptions mo = {}, bool append = false, bool use_step = false)
{
    BasisSumsParams bp;
    bp.protocol = s.protocol;
    bp.xfer_sum_len = protocol::checksum_length(s.kind);
    bp.append = append;
    Delta d;
    d.head = choose_sum_head(static_cast<std::int64_t>(basis.size()), bp);
    protocol::BlockChecksum strong(protocol::TransferChecksum{s.kind, protocol::SeedPlacement::Prepend}, s.seed);
    protocol::MemorySink sums_wire;
    MemoryDataWindow basis_window(basis);
    write_basis_sums(sums_wire, d.head, basis_window, strong, s.protocol, {}, append);

    protocol::MemorySource sums_in(sums_wire.bytes());
    const SumHead echoed = protocol::get_sum_head(sums_in, {s.protocol, bp.xfer_sum_len, "sender"});
    EXPECT_EQ(echoed, d.head);
    protocol::BlockSums sums;
    if (!append)
        sums = protocol::get_block_sums(sums_in, echoed, {});
    EXPECT_EQ(sums_in.remaining(), 0u);

    const std::size_t start = wire.bytes().size();
    enc.begin_file(false);
    EncoderSink literal_sink(enc);
    StepSink step_sink(enc);
    DeltaSink& sink = use_step ? static_cast<DeltaSink&>(step_sink) : literal_sink;
    MemoryDataWindow target_window(target);
    DeltaMatcher matcher;
    const MatchResult r = matcher.match(sums, static_cast<std::int64_t>(target.size()), target_window, strong,
                                        protocol::FileChecksum::for_transfer(s.kind, s.seed), sink, mo);
    EXPECT_EQ(enc.in_file(), !use_step);
    if (enc.in_file())
        enc.end_file();
    const auto sum = r.file_checksum();
    wire.write_all(std::as_bytes(sum));
    d.wire = wire.bytes().substr(start);
    d.stats = r.stats;
    return d;
}

ApplyParams params_for(const Session& s, const Delta& d, DataWindow* basis, std::int64_t basis_size, int out_fd)
{
    ApplyParams p;
    p.head = d.head;
    p.basis = basis;
    p.basis_size = basis_size;
    p.out_fd = out_fd;
    p.file_sum_kind = s.kind;
    p.checksum_seed = s.seed;
    p.protocol = s.protocol;
    p.full_fname = "\"f\" (in mod)";
    return p;
}

protocol::TokenSettings settings_of(const Session& s)
{
    protocol::TokenSettings ts;
    ts.compression = s.compression;
    ts.level = s.compression == Compression::Zstd ? 3 : 6;
    ts.protocol = s.protocol;
    return ts;
}

/// A basis of a few MiB and a copy with about 1% changed: edits, an insertion, a deletion.
std::pair<Bytes, Bytes> one_percent_change()
{
    const Bytes basis = prng(1, 3u << 20);
    Bytes target = basis;
    for (std::size_t k = 0; k < 20; ++k) {
        const std::size_t at = 100000 + k * 150000;
        const Bytes edit = prng(static_cast<std::uint32_t>(100 + k), 1000);
        std::copy(edit.begin(), edit.end(), target.begin() + static_cast<std::ptrdiff_t>(at));
    }
    target = cat({slice(target, 0, 1000000), prng(3, 5000), slice(target, 1000000, 2000000),
                  slice(target, 2004000, target.size())});
    return {basis, target};
}

// Verifies that feeding the matcher's steps through TokenEncoder::step() (no copy of the
// literal data) gives the same bytes as literal()/block()/end_file() for every compression,
// for two files in one stream (zstd and zlib keep state across files).
TEST(ApplyDelta, StepEncodingMatchesLiteralCalls)
{
    const auto [basis, target] = one_percent_change();
    const Bytes small = prng(77, 100000);
    for (const Compression c : {Compression::None, Compression::Zlib, Compression::Zlibx, Compression::Zstd,
                                Compression::Lz4}) {
        Session s;
        s.compression = c;
        std::string wires[2];
        for (int use_step = 0; use_step < 2; ++use_step) {
            protocol::MemorySink wire;
            auto enc = protocol::make_token_encoder(settings_of(s), wire);
            (void)make_delta(basis, target, s, *enc, wire, {}, false, use_step == 1);
            (void)make_delta(Bytes{}, small, s, *enc, wire, {}, false, use_step == 1);
            wires[use_step] = wire.bytes();
        }
        EXPECT_FALSE(wires[0].empty());
        EXPECT_EQ(wires[0], wires[1]) << "compression " << static_cast<int>(c);
    }
}

// Verifies that a delta made by the real generator/sender pieces rebuilds the changed file
// byte for byte under every compression, with about 1% literal data.
TEST(ApplyDelta, RoundTripEveryCompression)
{
    const auto [basis, target] = one_percent_change();
    for (const Compression c : {Compression::None, Compression::Zlib, Compression::Zlibx, Compression::Zstd,
                                Compression::Lz4}) {
        for (const int proto : {30, 32}) {
            SCOPED_TRACE(std::string(protocol::compression_name(c)) + " p" + std::to_string(proto));
            Session s;
            s.compression = c;
            s.protocol = proto;
            s.kind = proto == 30 ? ChecksumKind::Md5 : ChecksumKind::Xxh128;
            protocol::MemorySink wire;
            const auto enc = protocol::make_token_encoder(settings_of(s), wire);
            const Delta d = make_delta(basis, target, s, *enc, wire);

            MemoryDataWindow basis_window(basis);
            TempFile out;
            const auto dec = protocol::make_token_decoder(settings_of(s));
            protocol::MemorySource in(d.wire);
            const ApplyResult r = apply_delta(
                in, *dec, params_for(s, d, &basis_window, static_cast<std::int64_t>(basis.size()), out.fd()));
            EXPECT_TRUE(r.sum_matches);
            EXPECT_EQ(in.remaining(), 0u);
            EXPECT_EQ(out.read_all(), target);
            EXPECT_EQ(r.file_size, static_cast<std::int64_t>(target.size()));
            EXPECT_EQ(r.literal_bytes, d.stats.literal_data);
            EXPECT_EQ(r.matched_bytes, d.stats.matched_data);
            EXPECT_EQ(r.literal_bytes + r.matched_bytes, static_cast<std::int64_t>(target.size()));
            EXPECT_GT(r.literal_bytes, static_cast<std::int64_t>(target.size() / 200));
            EXPECT_LT(r.literal_bytes, static_cast<std::int64_t>(target.size() / 30));
            EXPECT_EQ(r.write_errno, 0);
        }
    }
}

// Verifies that one decoder serves consecutive files of a session (zstd and zlib keep state
// across files) and that a file with no basis at all comes out right.
TEST(ApplyDelta, SeveralFilesOneStream)
{
    for (const Compression c : {Compression::Zlib, Compression::Zstd}) {
        SCOPED_TRACE(std::string(protocol::compression_name(c)));
        Session s;
        s.compression = c;
        const Bytes basis1 = prng(20, 200000);
        const Bytes target1 = cat({slice(basis1, 0, 90000), prng(21, 3000), slice(basis1, 90000, 200000)});
        const Bytes target2 = prng(22, 70000);
        protocol::MemorySink wire;
        const auto enc = protocol::make_token_encoder(settings_of(s), wire);
        const Delta d1 = make_delta(basis1, target1, s, *enc, wire);
        const Delta d2 = make_delta({}, target2, s, *enc, wire);
        EXPECT_EQ(d2.head, SumHead{});

        const auto dec = protocol::make_token_decoder(settings_of(s));
        protocol::MemorySource in(wire.bytes());
        MemoryDataWindow w1(basis1);
        TempFile o1;
        TempFile o2;
        EXPECT_TRUE(apply_delta(in, *dec, params_for(s, d1, &w1, 200000, o1.fd())).sum_matches);
        EXPECT_TRUE(apply_delta(in, *dec, params_for(s, d2, nullptr, 0, o2.fd())).sum_matches);
        EXPECT_EQ(o1.read_all(), target1);
        EXPECT_EQ(o2.read_all(), target2);
        EXPECT_EQ(in.remaining(), 0u);
    }
}

// Verifies that a whole-file checksum that differs from the rebuilt data is reported.
TEST(ApplyDelta, CorruptedChecksumIsReported)
{
    Session s;
    const auto [basis, target] = one_percent_change();
    protocol::MemorySink wire;
    const auto enc = protocol::make_token_encoder(settings_of(s), wire);
    Delta d = make_delta(basis, target, s, *enc, wire);
    d.wire.back() = static_cast<char>(d.wire.back() ^ 0x01);
    MemoryDataWindow w(basis);
    TempFile out;
    const auto dec = protocol::make_token_decoder(settings_of(s));
    protocol::MemorySource in(d.wire);
    const ApplyResult r =
        apply_delta(in, *dec, params_for(s, d, &w, static_cast<std::int64_t>(basis.size()), out.fd()));
    EXPECT_FALSE(r.sum_matches);
    EXPECT_EQ(out.read_all(), target);
    EXPECT_EQ(in.remaining(), 0u);
}

std::string what_of(const std::function<void()>& f)
{
    try {
        f();
    } catch (const protocol::ProtocolError& e) {
        return std::to_string(static_cast<int>(e.code())) + ":" + e.what();
    }
    return "no error";
}

std::string plain_tokens(std::initializer_list<std::int32_t> tokens)
{
    std::string w;
    for (const std::int32_t t : tokens) {
        protocol::put_i32(w, t);
        if (t > 0)
            w.append(static_cast<std::size_t>(t), 'x');
    }
    return w;
}

// Verifies upstream's texts for a block number beyond the header and for a block that has
// no basis to come from.
TEST(ApplyDelta, ProtocolErrors)
{
    Session s;
    Delta d;
    d.head = SumHead{2, 700, 2, 100};
    const std::string code = std::to_string(static_cast<int>(protocol::ExitCode::Protocol)) + ":";
    const Bytes basis = prng(30, 800);
    MemoryDataWindow w(basis);
    TempFile out;
    const std::string bad_index = plain_tokens({5, -6, 0});
    EXPECT_EQ(what_of([&] {
                  const auto dec = protocol::make_token_decoder(settings_of(s));
                  protocol::MemorySource in(bad_index);
                  (void)apply_delta(in, *dec, params_for(s, d, &w, 800, out.fd()));
              }),
              code + "Invalid block index 5 (count=2) [receiver]");
    EXPECT_EQ(out.read_all(), Bytes(5, 'x')); // the literal before the error is kept

    const std::string one_block = plain_tokens({3, -2, 0}) + std::string(16, '\0');
    EXPECT_EQ(what_of([&] {
                  const auto dec = protocol::make_token_decoder(settings_of(s));
                  protocol::MemorySource in(one_block);
                  (void)apply_delta(in, *dec, params_for(s, d, nullptr, 0, out.fd()));
              }),
              code + "got a block match with no basis file for \"f\" (in mod) [receiver]");

    // Discarding the same stream is normal protocol: the block only advances the offset.
    const auto dec = protocol::make_token_decoder(settings_of(s));
    protocol::MemorySource in(one_block);
    TempFile untouched;
    const ApplyResult r = discard_delta(in, *dec, params_for(s, d, nullptr, 0, untouched.fd()));
    EXPECT_TRUE(r.sum_matches);
    EXPECT_EQ(r.literal_bytes, 3);
    EXPECT_EQ(r.matched_bytes, 100);
    EXPECT_EQ(r.file_size, 103);
    EXPECT_EQ(in.remaining(), 0u);
    EXPECT_EQ(untouched.read_all(), Bytes{});
}

// Verifies that --sparse leaves holes for long zero runs (including a trailing one, which
// needs the final ftruncate) while the bytes read back equal.
TEST(ApplyDelta, SparseOutputHasHoles)
{
    Session s;
    const Bytes target = cat({prng(40, 1u << 20), Bytes(4u << 20, 0), prng(41, 500), Bytes(700, 0), prng(42, 300000),
                              Bytes(2u << 20, 0)});
    for (const bool sparse : {false, true}) {
        SCOPED_TRACE(sparse);
        protocol::MemorySink wire;
        const auto enc = protocol::make_token_encoder(settings_of(s), wire);
        const Delta d = make_delta({}, target, s, *enc, wire);
        TempFile out;
        ApplyParams p = params_for(s, d, nullptr, 0, out.fd());
        p.sparse = sparse;
        const auto dec = protocol::make_token_decoder(settings_of(s));
        protocol::MemorySource in(d.wire);
        const ApplyResult r = apply_delta(in, *dec, p);
        EXPECT_TRUE(r.sum_matches);
        EXPECT_EQ(out.read_all(), target);
        const auto allocated = static_cast<std::int64_t>(out.stat().st_blocks) * 512;
        if (sparse)
            EXPECT_LT(allocated, 2 << 20);
        else
            EXPECT_GE(allocated, static_cast<std::int64_t>(target.size()));
    }
}

// Verifies --inplace: the output fd is the basis file, a shorter result cuts it, and blocks
// already at their place are not rewritten (an identical file needs no write at all: the
// output fd here cannot write).
TEST(ApplyDelta, InplaceUpdatesTheBasis)
{
    Session s;
    const Bytes basis = prng(50, 1u << 20);
    Bytes target = slice(basis, 0, 900000);
    const Bytes edit = prng(51, 2000);
    std::copy(edit.begin(), edit.end(), target.begin() + 300000);
    target = cat({target, prng(52, 1234)});
    MatchOptions mo;
    mo.updating_basis = true;
    protocol::MemorySink wire;
    const auto enc = protocol::make_token_encoder(settings_of(s), wire);
    const Delta d = make_delta(basis, target, s, *enc, wire, mo);

    TempFile file(basis);
    const int read_fd = ::open(file.path().c_str(), O_RDONLY);
    ASSERT_GE(read_fd, 0);
    FileDataWindow window(read_fd, static_cast<std::int64_t>(basis.size()));
    ApplyParams p = params_for(s, d, &window, static_cast<std::int64_t>(basis.size()), file.fd());
    p.inplace = true;
    const auto dec = protocol::make_token_decoder(settings_of(s));
    protocol::MemorySource in(d.wire);
    const ApplyResult r = apply_delta(in, *dec, p);
    ::close(read_fd);
    EXPECT_TRUE(r.sum_matches);
    EXPECT_EQ(r.truncate_errno, 0);
    EXPECT_EQ(file.read_all(), target);
    EXPECT_GT(r.matched_bytes, 800000);

    // Same content again: every block is at its own offset.
    protocol::MemorySink wire2;
    const auto enc2 = protocol::make_token_encoder(settings_of(s), wire2);
    const Delta d2 = make_delta(target, target, s, *enc2, wire2, mo);
    const int ro = ::open(file.path().c_str(), O_RDONLY);
    ASSERT_GE(ro, 0);
    FileDataWindow window2(ro, static_cast<std::int64_t>(target.size()));
    ApplyParams p2 = params_for(s, d2, &window2, static_cast<std::int64_t>(target.size()), ro);
    p2.inplace = true;
    const auto dec2 = protocol::make_token_decoder(settings_of(s));
    protocol::MemorySource in2(d2.wire);
    const ApplyResult r2 = apply_delta(in2, *dec2, p2);
    EXPECT_EQ(r2.write_errno, 0);
    EXPECT_TRUE(r2.sum_matches);
    EXPECT_EQ(r2.literal_bytes, 0);
    EXPECT_NE(r2.truncate_errno, 0); // only the final cut needs a writable fd; upstream warns
    ::close(ro);
    EXPECT_EQ(file.read_all(), target);
}

// Verifies --inplace --sparse: a range that became zeros inside the old file is punched out.
TEST(ApplyDelta, InplaceSparsePunchesHoles)
{
    Session s;
    const Bytes basis = prng(60, 4u << 20);
    Bytes target = basis;
    std::fill(target.begin() + (1 << 20), target.begin() + (3 << 20), 0);
    MatchOptions mo;
    mo.updating_basis = true;
    protocol::MemorySink wire;
    const auto enc = protocol::make_token_encoder(settings_of(s), wire);
    const Delta d = make_delta(basis, target, s, *enc, wire, mo);

    TempFile file(basis);
    ::fsync(file.fd());
    const auto before = file.stat().st_blocks;
    const int read_fd = ::open(file.path().c_str(), O_RDONLY);
    ASSERT_GE(read_fd, 0);
    FileDataWindow window(read_fd, static_cast<std::int64_t>(basis.size()));
    ApplyParams p = params_for(s, d, &window, static_cast<std::int64_t>(basis.size()), file.fd());
    p.inplace = true;
    p.sparse = true;
    const auto dec = protocol::make_token_decoder(settings_of(s));
    protocol::MemorySource in(d.wire);
    const ApplyResult r = apply_delta(in, *dec, p);
    ::close(read_fd);
    EXPECT_TRUE(r.sum_matches);
    EXPECT_EQ(file.read_all(), target);
    EXPECT_LT(file.stat().st_blocks * 512, before * 512 - (3 << 19));
}

// Verifies --append and --append-verify: the kept prefix is not rewritten and only
// --append-verify's whole-file sum covers it.
TEST(ApplyDelta, AppendModes)
{
    const Bytes basis = prng(70, 123457);
    const Bytes target = cat({basis, prng(71, 54321)});
    for (const bool verify : {false, true}) {
        SCOPED_TRACE(verify);
        Session s;
        MatchOptions mo;
        mo.append_length = static_cast<std::int64_t>(basis.size());
        mo.append_verify = verify;
        protocol::MemorySink wire;
        const auto enc = protocol::make_token_encoder(settings_of(s), wire);
        const Delta d = make_delta(basis, target, s, *enc, wire, mo, true);
        ASSERT_EQ(d.head.file_length(), static_cast<std::int64_t>(basis.size()));

        TempFile file(basis);
        MemoryDataWindow w(basis);
        ApplyParams p = params_for(s, d, &w, static_cast<std::int64_t>(basis.size()), file.fd());
        p.inplace_sizing = true;
        p.append_offset = d.head.file_length();
        p.append_verify = verify;
        const auto dec = protocol::make_token_decoder(settings_of(s));
        protocol::MemorySource in(d.wire);
        const ApplyResult r = apply_delta(in, *dec, p);
        EXPECT_TRUE(r.sum_matches);
        EXPECT_EQ(r.literal_bytes, 54321);
        EXPECT_EQ(file.read_all(), target);

        // The other mode's sum disagrees.
        p.append_verify = !verify;
        const auto dec2 = protocol::make_token_decoder(settings_of(s));
        protocol::MemorySource in2(d.wire);
        EXPECT_FALSE(apply_delta(in2, *dec2, p).sum_matches);
    }
}

// Verifies that a write error stops the rebuild at once with the errno (upstream exits with
// "write failed on ..."), leaving the rest of the stream unread.
TEST(ApplyDelta, WriteErrorStopsAtOnce)
{
    Session s;
    const Bytes target = prng(80, 3u << 20);
    protocol::MemorySink wire;
    const auto enc = protocol::make_token_encoder(settings_of(s), wire);
    const Delta d = make_delta({}, target, s, *enc, wire);
    TempFile file;
    const int ro = ::open(file.path().c_str(), O_RDONLY);
    ASSERT_GE(ro, 0);
    const auto dec = protocol::make_token_decoder(settings_of(s));
    protocol::MemorySource in(d.wire);
    const ApplyResult r = apply_delta(in, *dec, params_for(s, d, nullptr, 0, ro));
    ::close(ro);
    EXPECT_EQ(r.write_errno, EBADF);
    EXPECT_FALSE(r.sum_matches);
    EXPECT_GT(in.remaining(), 0u);
}

// Verifies that a stream cut short after literal data leaves what arrived in the output, as
// upstream's exit cleanup flushes its write buffer (a --partial file keeps it).
TEST(ApplyDelta, CutStreamKeepsWhatArrived)
{
    Session s;
    const Bytes target = prng(85, 3u << 20);
    protocol::MemorySink wire;
    const auto enc = protocol::make_token_encoder(settings_of(s), wire);
    const Delta d = make_delta({}, target, s, *enc, wire);
    const std::string cut = d.wire.substr(0, d.wire.size() / 2);
    TempFile out;
    const auto dec = protocol::make_token_decoder(settings_of(s));
    protocol::MemorySource in(cut);
    EXPECT_THROW((void)apply_delta(in, *dec, params_for(s, d, nullptr, 0, out.fd())), protocol::ProtocolError);
    const Bytes got = out.read_all();
    EXPECT_GT(got.size(), cut.size() - (64u << 10));
    EXPECT_EQ(got, slice(target, 0, got.size()));
}

// Verifies that blocks the basis no longer has (it shrank after the sums were made) read as
// zeros, so the file sum disagrees instead of anything reading out of bounds.
TEST(ApplyDelta, ShrunkenBasisReadsZeros)
{
    Session s;
    const Bytes basis = prng(90, 100000);
    const Bytes target = basis;
    protocol::MemorySink wire;
    const auto enc = protocol::make_token_encoder(settings_of(s), wire);
    const Delta d = make_delta(basis, target, s, *enc, wire);
    const Bytes shrunk = slice(basis, 0, 60000);
    MemoryDataWindow w(shrunk);
    TempFile out;
    const auto dec = protocol::make_token_decoder(settings_of(s));
    protocol::MemorySource in(d.wire);
    const ApplyResult r = apply_delta(in, *dec, params_for(s, d, &w, 60000, out.fd()));
    EXPECT_FALSE(r.sum_matches);
    Bytes expected = basis;
    std::fill(expected.begin() + 60000, expected.end(), 0);
    EXPECT_EQ(out.read_all(), expected);
}

// Verifies that discarding a real compressed delta consumes exactly its bytes, so the next
// file's tokens are read in step.
TEST(ApplyDelta, DiscardKeepsStreamInStep)
{
    Session s;
    s.compression = Compression::Zlib;
    const auto [basis, target] = one_percent_change();
    protocol::MemorySink wire;
    const auto enc = protocol::make_token_encoder(settings_of(s), wire);
    const Delta d1 = make_delta(basis, target, s, *enc, wire);
    const Bytes second = prng(95, 50000);
    const Delta d2 = make_delta({}, second, s, *enc, wire);
    const auto dec = protocol::make_token_decoder(settings_of(s));
    protocol::MemorySource in(wire.bytes());
    const ApplyResult r1 = discard_delta(in, *dec, params_for(s, d1, nullptr, 0, -1));
    EXPECT_EQ(r1.literal_bytes + r1.matched_bytes, static_cast<std::int64_t>(target.size()));
    EXPECT_EQ(in.remaining(), d2.wire.size());
    TempFile out;
    EXPECT_TRUE(apply_delta(in, *dec, params_for(s, d2, nullptr, 0, out.fd())).sum_matches);
    EXPECT_EQ(out.read_all(), second);
}

} // namespace
} // namespace ocr::transfer
