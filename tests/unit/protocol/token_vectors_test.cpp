// SPDX-License-Identifier: MIT
// Token streams captured from the real rsync (tests/data/tokens, see capture_tokens.py there):
// our decoder must rebuild every file, and our encoder must write the same bytes.
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/token_codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace ocr::protocol {
namespace {

const std::string kDir = std::string(OCR_TEST_DATA_DIR) + "/tokens/";

// The generator capture_tokens.py uses for the files (they are not stored).
class XorShift32 {
public:
    explicit XorShift32(std::uint32_t seed) : state_(seed != 0 ? seed : 1) {}
    std::uint32_t next()
    {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 17;
        state_ ^= state_ << 5;
        return state_;
    }

private:
    std::uint32_t state_;
};

std::string make_text(std::uint32_t seed, std::size_t n)
{
    static constexpr std::array<const char*, 24> kWords{
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
        "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi",
        "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"};
    XorShift32 rng(seed);
    std::string out;
    while (out.size() < n) {
        for (int w = 0; w < 12; ++w) {
            if (w != 0)
                out += ' ';
            out += kWords[rng.next() % kWords.size()];
        }
        out += '\n';
    }
    out.resize(n);
    return out;
}

std::string make_bin(std::uint32_t seed, std::size_t n)
{
    XorShift32 rng(seed);
    std::string out(n, '\0');
    for (char& c : out)
        c = static_cast<char>(rng.next() & 0xFF);
    return out;
}

std::string make_edited(std::uint32_t seed, std::size_t n)
{
    std::string b = make_text(seed, n);
    b.replace(n / 20, 100, std::string(100, 'X'));
    b.erase(n * 2 / 5, 1000);
    return b + "trailer";
}

std::string build(const std::string& spec)
{
    std::istringstream in(spec);
    std::string kind;
    std::uint32_t seed = 0;
    std::size_t n = 0;
    in >> kind >> seed >> n;
    if (kind == "text")
        return make_text(seed, n);
    if (kind == "bin")
        return make_bin(seed, n);
    if (kind == "edited")
        return make_edited(seed, n);
    return {};
}

std::string read_file(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct VectorFile {
    std::string name;
    std::string original;
    std::string basis;
    BlockLayout layout;
    std::string tokens;
};

struct Vector {
    std::string name;
    std::string client;
    TokenSettings settings;
    std::vector<VectorFile> files;
};

Compression parse_compression(const std::string& s)
{
    const auto c = compression_from_name(s);
    if (!c)
        throw std::runtime_error("bad compression " + s);
    return *c;
}

Vector load(const std::string& meta_path)
{
    Vector v;
    std::istringstream meta(read_file(meta_path));
    std::string line;
    while (std::getline(meta, line)) {
        const std::string key = line.substr(0, line.find(' '));
        const std::string value = line.substr(key.size() + 1);
        if (key == "case")
            v.name = value;
        else if (key == "client")
            v.client = value;
        else if (key == "compression")
            v.settings.compression = parse_compression(value);
        else if (key == "level")
            v.settings.level = std::stoi(value);
        else if (key == "protocol")
            v.settings.protocol = std::stoi(value);
        else if (key == "file")
            v.files.push_back(VectorFile{value, {}, {}, {}, {}});
        else if (key == "original")
            v.files.back().original = build(value);
        else if (key == "basis")
            v.files.back().basis = build(value);
        else if (key == "tokens")
            v.files.back().tokens = read_file(kDir + value);
        else if (key == "sum_head") {
            std::istringstream in(value);
            int s2 = 0;
            BlockLayout& l = v.files.back().layout;
            in >> l.count >> l.length >> s2 >> l.remainder;
        }
    }
    return v;
}

std::vector<Vector> all_vectors()
{
    std::vector<Vector> out;
    for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
        if (entry.path().extension() == ".meta")
            out.push_back(load(entry.path().string()));
    }
    std::sort(out.begin(), out.end(),
              [](const Vector& a, const Vector& b) { return a.name < b.name; });
    return out;
}

std::span<const std::byte> bytes_of(std::string_view s)
{
    return std::as_bytes(std::span(s.data(), s.size()));
}

// One step of the decoded stream: a literal run (merged) or a block.
struct Step {
    bool is_block = false;
    std::size_t literal = 0;
    std::int32_t block = 0;
};

// Decodes one file, checking the result against the original; returns the steps.
std::vector<Step> decode_file(TokenDecoder& dec, const VectorFile& f, const std::string& what)
{
    dec.begin_file(f.layout);
    MemorySource in(f.tokens);
    std::string rebuilt;
    std::vector<Step> steps;
    for (;;) {
        const Token t = dec.next(in);
        if (t.kind == Token::Kind::End)
            break;
        if (t.kind == Token::Kind::Literal) {
            rebuilt.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
            if (steps.empty() || steps.back().is_block)
                steps.push_back(Step{});
            steps.back().literal += t.data.size();
            continue;
        }
        const auto off = static_cast<std::size_t>(t.block) * static_cast<std::size_t>(f.layout.length);
        const std::string_view blk = std::string_view(f.basis).substr(off, static_cast<std::size_t>(t.length));
        EXPECT_EQ(blk.size(), static_cast<std::size_t>(t.length)) << what;
        dec.see_block(bytes_of(blk));
        rebuilt += blk;
        steps.push_back(Step{true, 0, t.block});
    }
    EXPECT_EQ(in.remaining(), 0u) << what << ": bytes left after the end flag";
    EXPECT_TRUE(rebuilt == f.original) << what << ": rebuilt file differs";
    return steps;
}

// Replays the steps with the calls upstream's match.c makes: data-only pieces of 32 KiB in a
// long literal run (hash_search: once a run exceeds blength + 32 KiB, with more than 32 KiB
// left before the search's end; no basis: every 32 KiB), the rest with the next token.
void encode_file(TokenEncoder& enc, const VectorFile& f, const std::vector<Step>& steps, bool skip)
{
    const std::size_t chunk = kTokenChunkSize;
    const std::size_t len = f.original.size();
    const std::string_view src(f.original);
    enc.begin_file(skip);
    std::size_t pos = 0;
    auto send_run = [&](std::size_t run) {
        std::size_t last = pos;
        const std::size_t stop = pos + run;
        if (f.layout.count == 0) {
            for (std::size_t j = last + chunk; j < len; j += chunk) {
                enc.literal(bytes_of(src.substr(last, j - last)));
                last = j;
            }
        } else {
            const auto blen = static_cast<std::size_t>(f.layout.length);
            const std::size_t end = len + 1 - static_cast<std::size_t>(f.layout.block_length(f.layout.count - 1));
            for (std::size_t o = pos + blen + chunk; o < stop && o + chunk < end; o += chunk) {
                enc.literal(bytes_of(src.substr(last, o - blen - last)));
                last = o - blen;
            }
        }
        enc.literal(bytes_of(src.substr(last, stop - last)));
        pos = stop;
    };
    for (const Step& s : steps) {
        if (!s.is_block) {
            send_run(s.literal);
            continue;
        }
        const auto off = static_cast<std::size_t>(s.block) * static_cast<std::size_t>(f.layout.length);
        const auto blen = static_cast<std::size_t>(f.layout.block_length(s.block));
        enc.block(s.block, bytes_of(std::string_view(f.basis).substr(off, blen)));
        pos += blen;
    }
    enc.end_file();
}

// Verifies that the captures are all there (the capture script wrote one .meta per case).
TEST(TokenVectors, CapturesArePresent)
{
    const auto vectors = all_vectors();
    EXPECT_GE(vectors.size(), 20u);
    for (const Vector& v : vectors) {
        EXPECT_FALSE(v.files.empty()) << v.name;
        for (const VectorFile& f : v.files) {
            EXPECT_FALSE(f.tokens.empty()) << v.name << "/" << f.name;
            EXPECT_FALSE(f.original.empty()) << v.name << "/" << f.name;
        }
    }
}

// Verifies that our decoder rebuilds every captured file, byte for byte, one decoder per
// session (zstd's stream continues across the files of a session).
TEST(TokenVectors, DecoderRebuildsCapturedFiles)
{
    for (const Vector& v : all_vectors()) {
        SCOPED_TRACE(v.name);
        const auto dec = make_token_decoder(v.settings);
        for (const VectorFile& f : v.files)
            (void)decode_file(*dec, f, v.name + "/" + f.name);
    }
}

// Verifies that our encoder, given the calls upstream's sender makes, writes exactly the
// captured bytes (same zlib/zstd/lz4 libraries and levels). The 3.0.0 client carries its own
// zlib 1.2.3, whose deflate output differs from today's zlib; its streams only get decoded.
TEST(TokenVectors, EncoderReproducesCapturedStreams)
{
    int compared = 0;
    for (const Vector& v : all_vectors()) {
        if (v.client == "rsync_3.0.0")
            continue;
        SCOPED_TRACE(v.name);
        const auto dec = make_token_decoder(v.settings);
        MemorySink sink;
        const auto enc = make_token_encoder(v.settings, sink);
        std::size_t expected_size = 0;
        std::string expected;
        for (const VectorFile& f : v.files) {
            const std::vector<Step> steps = decode_file(*dec, f, v.name + "/" + f.name);
            // A pull from a module with "dont compress = *" runs zlib at the skip level.
            encode_file(*enc, f, steps, v.name == "pull_dont_compress_all");
            expected += f.tokens;
            expected_size += f.tokens.size();
            ASSERT_EQ(sink.bytes().size(), expected_size) << f.name;
            EXPECT_TRUE(sink.bytes() == expected) << f.name << ": encoder output differs";
        }
        ++compared;
    }
    EXPECT_GE(compared, 18);
}

// Verifies that the protocol < 31 history quirk is real: the protocol-30 captures with
// 70000-byte blocks (from 3.5.0 and from 3.0.0's own zlib) do not decode with the newer rule.
TEST(TokenVectors, OldHistoryRuleIsNeeded)
{
    int checked = 0;
    for (const Vector& v : all_vectors()) {
        if (v.name != "zlib_bigblock_p30" && v.name != "old300_bigblock")
            continue;
        TokenSettings wrong = v.settings;
        wrong.protocol = 31;
        const auto dec = make_token_decoder(wrong);
        const VectorFile& f = v.files.at(0);
        dec->begin_file(f.layout);
        MemorySource in(f.tokens);
        std::string rebuilt;
        try {
            for (Token t = dec->next(in); t.kind != Token::Kind::End; t = dec->next(in)) {
                if (t.kind == Token::Kind::Literal) {
                    rebuilt.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
                    continue;
                }
                const std::string_view blk = std::string_view(f.basis).substr(
                    static_cast<std::size_t>(t.block) * static_cast<std::size_t>(f.layout.length),
                    static_cast<std::size_t>(t.length));
                dec->see_block(bytes_of(blk));
                rebuilt += blk;
            }
        } catch (const ProtocolError&) {
            rebuilt = "error";
        }
        EXPECT_NE(rebuilt, f.original) << v.name;
        ++checked;
    }
    EXPECT_EQ(checked, 2);
}

// Verifies that the encoder's own output decodes again (our streams as the receiver sees them).
TEST(TokenVectors, EncoderOutputDecodes)
{
    for (const Vector& v : all_vectors()) {
        SCOPED_TRACE(v.name);
        MemorySink sink;
        const auto enc = make_token_encoder(v.settings, sink);
        const auto dec2 = make_token_decoder(v.settings);
        const auto dec3 = make_token_decoder(v.settings);
        for (const VectorFile& f : v.files) {
            const std::size_t before = sink.bytes().size();
            encode_file(*enc, f, decode_file(*dec2, f, v.name), false);
            VectorFile ours = f;
            ours.tokens = sink.bytes().substr(before);
            (void)decode_file(*dec3, ours, v.name + "/" + f.name + " (ours)");
        }
    }
}

} // namespace
} // namespace ocr::protocol
