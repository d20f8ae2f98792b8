// SPDX-License-Identifier: MIT
// Checks the checksum choice, the weak and strong block sums and the whole-file and
// file-list sums against what real rsync clients and upstream's daemon sent
// (tests/data/checksum/captured_sums.txt).
#include "protocol/checksum.hpp"
#include "protocol/checksum_negotiation.hpp"
#include "protocol/checksum_rolling.hpp"
#include "protocol/sum_head.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace ocr::protocol {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes read_file(const std::string& name)
{
    std::ifstream in(std::string(OCR_TEST_DATA_DIR) + "/checksum/" + name, std::ios::binary);
    EXPECT_TRUE(in) << name;
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes from_hex(const std::string& hex)
{
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return out;
}

std::map<std::string, std::string> fields(const std::string& line)
{
    std::map<std::string, std::string> out;
    std::istringstream words(line);
    std::string w;
    words >> w; // the record type
    out["type"] = w;
    while (words >> w) {
        const auto eq = w.find('=');
        if (eq != std::string::npos)
            out[w.substr(0, eq)] = w.substr(eq + 1);
        else if (!out.contains("name"))
            out["name"] = w;
    }
    return out;
}

/// A pull or push capture: how the session was set up and what was sent.
struct Capture {
    std::map<std::string, std::string> setup;
    std::map<std::string, std::string> blocks;
    std::string whole;
};

struct Captures {
    std::vector<Capture> transfers;
    std::vector<std::map<std::string, std::string>> flists;
};

const Captures& captures()
{
    static const Captures all = [] {
        Captures c;
        std::ifstream in(std::string(OCR_TEST_DATA_DIR) + "/checksum/captured_sums.txt");
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind("case ", 0) == 0 || line.rfind("push ", 0) == 0) {
                c.transfers.push_back({fields(line), {}, {}});
            } else if (line.rfind("  blocks ", 0) == 0) {
                // "sums=" is the last field and holds the space-separated block list.
                c.transfers.back().blocks = fields(line);
                c.transfers.back().blocks["sums"] = line.substr(line.find("sums=") + 5);
            } else if (line.rfind("  whole ", 0) == 0) {
                c.transfers.back().whole = line.substr(8);
            } else if (line.rfind("flist ", 0) == 0) {
                c.flists.push_back(fields(line));
            }
        }
        return c;
    }();
    return all;
}

ChecksumKind kind_named(const std::string& name)
{
    if (name == "md4-old")
        return ChecksumKind::Md4Old;
    const auto k = checksum_by_name(name);
    EXPECT_TRUE(k) << name;
    return k.value_or(ChecksumKind::None);
}

/// The server-side inputs upstream's daemon had for @p setup.
ChecksumNegotiationInputs inputs_for(const std::map<std::string, std::string>& setup)
{
    ChecksumNegotiationInputs in;
    in.protocol = std::stoi(setup.at("proto"));
    const std::string info = setup.at("info");
    in.proper_seed_order = in.protocol >= 30 && info.find('C') != std::string::npos;
    in.negotiated_strings = in.protocol >= 30 && info.find('v') != std::string::npos;
    if (setup.at("choice") != "-")
        in.checksum_choice = setup.at("choice");
    if (in.negotiated_strings && !in.checksum_choice) {
        std::string list = setup.at("list");
        for (char& ch : list)
            ch = ch == ',' ? ' ' : ch;
        in.client_list = PeerNameList{list, false, list.size()};
    }
    return in;
}

// Verifies that the data files are there and the capture list is complete enough to mean
// something (every kind, both seed signs, old and new clients, pulls and pushes).
TEST(ChecksumCaptures, Present)
{
    EXPECT_EQ(read_file("basis.bin").size(), 2900u);
    EXPECT_EQ(read_file("source.bin").size(), 3270u);
    EXPECT_GE(captures().transfers.size(), 30u);
    EXPECT_GE(captures().flists.size(), 10u);
}

// Verifies, for every captured session, that our server-side choice is the kind the real
// peers used, and that with it our weak sums, our strong sums (prefixes of s2length bytes)
// and our whole-file sum are byte for byte what the real generator and sender sent.
TEST(ChecksumCaptures, TransfersMatchRealPeers)
{
    const Bytes basis = read_file("basis.bin");
    const Bytes source = read_file("source.bin");
    for (const Capture& c : captures().transfers) {
        SCOPED_TRACE(c.setup.at("type") + " " + c.setup.at("name"));
        const auto chosen = negotiate_checksums(inputs_for(c.setup));
        ASSERT_TRUE(std::holds_alternative<ChecksumSelection>(chosen));
        const ChecksumSelection& sel = std::get<ChecksumSelection>(chosen);
        ASSERT_EQ(sel.transfer.kind, kind_named(c.setup.at("kind")));
        const auto seed = static_cast<std::int32_t>(std::stol(c.setup.at("seed")));

        const auto blength = std::stoi(c.blocks.at("blength"));
        const auto s2length = static_cast<std::size_t>(std::stoi(c.blocks.at("s2length")));
        BlockChecksum strong(sel.transfer, seed);
        std::array<std::uint8_t, kMaxChecksumLength> digest{};
        std::istringstream words(c.blocks.at("sums"));
        std::string entry;
        std::size_t block = 0;
        while (words >> entry) {
            const auto colon = entry.find(':');
            ASSERT_NE(colon, std::string::npos);
            const auto offset = block * static_cast<std::size_t>(blength);
            const std::span<const std::uint8_t> data(basis.data() + offset,
                                                     std::min<std::size_t>(blength, basis.size() - offset));
            EXPECT_EQ(rolling_checksum(data), std::stoul(entry.substr(0, colon), nullptr, 16)) << "block " << block;
            strong.compute(data, digest);
            const Bytes want = from_hex(entry.substr(colon + 1));
            ASSERT_EQ(want.size(), s2length);
            EXPECT_TRUE(std::equal(want.begin(), want.end(), digest.begin())) << "block " << block;
            ++block;
        }
        EXPECT_EQ(block, (basis.size() + blength - 1) / blength);

        FileChecksum whole = FileChecksum::for_transfer(sel.transfer.kind, seed);
        whole.update(source);
        Bytes got(whole.length());
        whole.finish(got);
        EXPECT_EQ(got, from_hex(c.whole));
    }
}

// Verifies our --checksum file-list sums against the ones upstream's daemon put in its
// file lists.
TEST(ChecksumCaptures, FileListSumsMatchRealPeers)
{
    const Bytes source = read_file("source.bin");
    for (const auto& f : captures().flists) {
        SCOPED_TRACE(f.at("name"));
        FileChecksum sum = FileChecksum::for_file_list(kind_named(f.at("kind")));
        sum.update(source);
        Bytes got(sum.length());
        sum.finish(got);
        EXPECT_EQ(got, from_hex(f.at("sum")));
    }
}

} // namespace
} // namespace ocr::protocol
