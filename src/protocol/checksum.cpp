// SPDX-License-Identifier: MIT
// Strong block sums, whole-file sums and file-list sums over OpenSSL (MD4, MD5, SHA-1) and
// libxxhash, with the seed handling of upstream checksum.c.
#include "protocol/checksum.hpp"

#include "common/strings.hpp"
#include "protocol/protocol_error.hpp"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <new>
#include <stdexcept>
#include <utility>

namespace ocr::protocol {
namespace {

void store_le64(std::uint8_t* out, std::uint64_t v) noexcept
{
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::array<std::uint8_t, 4> seed_bytes(std::int32_t seed) noexcept
{
    const auto u = static_cast<std::uint32_t>(seed);
    return {static_cast<std::uint8_t>(u), static_cast<std::uint8_t>(u >> 8),
            static_cast<std::uint8_t>(u >> 16), static_cast<std::uint8_t>(u >> 24)};
}

// xxhash takes the C int seed converted to its 64-bit unsigned type, which sign-extends
// (Upstream: checksum.c:get_checksum2 passes checksum_seed straight through).
XXH64_hash_t xxh_seed(std::int32_t seed) noexcept
{
    return static_cast<XXH64_hash_t>(static_cast<std::int64_t>(seed));
}

std::optional<DigestAlgorithm> evp_algorithm(ChecksumKind kind) noexcept
{
    switch (kind) {
    case ChecksumKind::Md4Old:
    case ChecksumKind::Md4:
        return DigestAlgorithm::Md4;
    case ChecksumKind::Md5:
        return DigestAlgorithm::Md5;
    case ChecksumKind::Sha1:
        return DigestAlgorithm::Sha1;
    case ChecksumKind::None:
    case ChecksumKind::Xxh64:
    case ChecksumKind::Xxh3:
    case ChecksumKind::Xxh128:
        break;
    }
    return std::nullopt;
}

void require_room(std::span<std::uint8_t> out, std::size_t want)
{
    if (out.size() < want)
        throw std::invalid_argument("checksum output buffer too short");
}

} // namespace

std::string_view checksum_name(ChecksumKind kind) noexcept
{
    switch (kind) {
    case ChecksumKind::None:
        return "none";
    case ChecksumKind::Md4Old:
    case ChecksumKind::Md4:
        return "md4";
    case ChecksumKind::Md5:
        return "md5";
    case ChecksumKind::Sha1:
        return "sha1";
    case ChecksumKind::Xxh64:
        return "xxh64";
    case ChecksumKind::Xxh3:
        return "xxh3";
    case ChecksumKind::Xxh128:
        return "xxh128";
    }
    return "";
}

std::size_t checksum_length(ChecksumKind kind) noexcept
{
    // Upstream: checksum.c:csum_len_for_type.
    switch (kind) {
    case ChecksumKind::None:
        return 1;
    case ChecksumKind::Md4Old:
    case ChecksumKind::Md4:
    case ChecksumKind::Md5:
    case ChecksumKind::Xxh128:
        return 16;
    case ChecksumKind::Sha1:
        return 20;
    case ChecksumKind::Xxh64:
    case ChecksumKind::Xxh3:
        return 8;
    }
    return 0;
}

std::optional<std::string> checksum_hex(ChecksumKind kind, std::span<const std::byte> sum)
{
    bool reversed = false;
    switch (kind) {
    case ChecksumKind::None:
    case ChecksumKind::Md4Old:
        return std::nullopt;
    case ChecksumKind::Md4:
    case ChecksumKind::Md5:
    case ChecksumKind::Sha1:
        break;
    case ChecksumKind::Xxh64:
    case ChecksumKind::Xxh3:
    case ChecksumKind::Xxh128:
        reversed = true;
        break;
    }
    const std::size_t n = std::min(checksum_length(kind), sum.size());
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        const auto b = static_cast<unsigned>(sum[reversed ? n - 1 - i : i]);
        out += kDigits[b >> 4];
        out += kDigits[b & 0xF];
    }
    return out;
}

std::optional<ChecksumKind> checksum_by_name(std::string_view name) noexcept
{
    struct Entry {
        std::string_view name;
        ChecksumKind kind;
    };
    // Upstream: checksum.c:valid_checksums_items (Debian's build has all of them).
    static constexpr Entry kEntries[] = {
        {"xxh128", ChecksumKind::Xxh128}, {"xxh3", ChecksumKind::Xxh3},
        {"xxh64", ChecksumKind::Xxh64},   {"xxhash", ChecksumKind::Xxh64},
        {"md5", ChecksumKind::Md5},       {"md4", ChecksumKind::Md4},
        {"sha1", ChecksumKind::Sha1},     {"none", ChecksumKind::None},
    };
    for (const Entry& e : kEntries) {
        if (iequals(name, e.name))
            return e.kind;
    }
    return std::nullopt;
}

// --- BlockChecksum ----------------------------------------------------------------------

BlockChecksum::BlockChecksum(TransferChecksum sum, std::int32_t seed) : sum_(sum), seed_(seed)
{
    if (const auto algorithm = evp_algorithm(sum.kind))
        digest_.emplace(*algorithm);
}

BlockChecksum::~BlockChecksum() = default;
BlockChecksum::BlockChecksum(BlockChecksum&&) noexcept = default;
BlockChecksum& BlockChecksum::operator=(BlockChecksum&&) noexcept = default;

std::size_t BlockChecksum::compute(std::span<const std::uint8_t> block, std::span<std::uint8_t> out)
{
    const std::size_t len = length();
    require_room(out, len);
    switch (sum_.kind) {
    case ChecksumKind::Xxh64:
        store_le64(out.data(), XXH64(block.data(), block.size(), xxh_seed(seed_)));
        return len;
    case ChecksumKind::Xxh3:
        store_le64(out.data(), XXH3_64bits_withSeed(block.data(), block.size(), xxh_seed(seed_)));
        return len;
    case ChecksumKind::Xxh128: {
        const XXH128_hash_t h = XXH3_128bits_withSeed(block.data(), block.size(), xxh_seed(seed_));
        store_le64(out.data(), h.low64);
        store_le64(out.data() + 8, h.high64);
        return len;
    }
    case ChecksumKind::None:
        // Upstream: checksum.c:get_checksum2 has no case for it and exits with code 4; a
        // generator only sends block sums with "none" if it is broken or hostile.
        throw ProtocolError(ExitCode::Unsupported, "block checksums requested with checksum \"none\"");
    case ChecksumKind::Md4Old:
    case ChecksumKind::Md4:
    case ChecksumKind::Md5:
    case ChecksumKind::Sha1:
        break;
    }
    // Upstream: checksum.c:get_checksum2. A zero seed is not hashed at all. SHA-1 only has
    // the EVP path, which puts the seed first.
    const auto seed = seed_bytes(seed_);
    const bool seeded = seed_ != 0;
    const bool seed_first = sum_.kind == ChecksumKind::Sha1 || sum_.seed_placement == SeedPlacement::Prepend;
    if (seeded && seed_first)
        digest_->update(std::span<const std::uint8_t>(seed));
    digest_->update(block);
    if (seeded && !seed_first)
        digest_->update(std::span<const std::uint8_t>(seed));
    return digest_->finish(out);
}

// --- FileChecksum -----------------------------------------------------------------------

void FileChecksum::XxhDeleter::operator()(XXH64_state_s* state) const noexcept
{
    XXH64_freeState(state);
}

void FileChecksum::XxhDeleter::operator()(XXH3_state_s* state) const noexcept
{
    XXH3_freeState(state);
}

FileChecksum::FileChecksum(ChecksumKind kind) : kind_(kind)
{
    if (const auto algorithm = evp_algorithm(kind)) {
        digest_.emplace(*algorithm);
        return;
    }
    switch (kind) {
    case ChecksumKind::Xxh64:
        xxh64_.reset(XXH64_createState());
        if (!xxh64_)
            throw std::bad_alloc();
        XXH64_reset(xxh64_.get(), 0);
        break;
    case ChecksumKind::Xxh3:
    case ChecksumKind::Xxh128:
        xxh3_.reset(XXH3_createState());
        if (!xxh3_)
            throw std::bad_alloc();
        if (kind == ChecksumKind::Xxh3)
            XXH3_64bits_reset(xxh3_.get());
        else
            XXH3_128bits_reset(xxh3_.get());
        break;
    default:
        break;
    }
}

FileChecksum FileChecksum::for_transfer(ChecksumKind kind, std::int32_t seed)
{
    FileChecksum sum(kind);
    // Upstream: checksum.c:sum_init. Only the old implied MD4 is seeded, and it hashes the
    // seed even when it is 0 (the block sums leave a zero seed out).
    if (kind == ChecksumKind::Md4Old) {
        const auto bytes = seed_bytes(seed);
        sum.update(std::span<const std::uint8_t>(bytes));
    }
    return sum;
}

FileChecksum FileChecksum::for_file_list(ChecksumKind kind)
{
    // Upstream: checksum.c:file_checksum has no case for "none".
    if (kind == ChecksumKind::None)
        throw ProtocolError(ExitCode::Unsupported, "Invalid checksum-choice for --checksum: none (0)");
    return FileChecksum(kind);
}

FileChecksum::~FileChecksum() = default;
FileChecksum::FileChecksum(FileChecksum&&) noexcept = default;
FileChecksum& FileChecksum::operator=(FileChecksum&&) noexcept = default;

void FileChecksum::update(std::span<const std::uint8_t> data)
{
    if (data.empty())
        return;
    switch (kind_) {
    case ChecksumKind::None:
        return;
    case ChecksumKind::Xxh64:
        XXH64_update(xxh64_.get(), data.data(), data.size());
        return;
    case ChecksumKind::Xxh3:
        XXH3_64bits_update(xxh3_.get(), data.data(), data.size());
        return;
    case ChecksumKind::Xxh128:
        XXH3_128bits_update(xxh3_.get(), data.data(), data.size());
        return;
    case ChecksumKind::Md4Old:
    case ChecksumKind::Md4:
    case ChecksumKind::Md5:
    case ChecksumKind::Sha1:
        digest_->update(data);
        return;
    }
}

std::size_t FileChecksum::finish(std::span<std::uint8_t> out)
{
    if (finished_)
        throw std::logic_error("FileChecksum::finish called twice");
    const std::size_t len = length();
    require_room(out, len);
    finished_ = true;
    switch (kind_) {
    case ChecksumKind::None:
        out[0] = 0; // Upstream: checksum.c:sum_end writes one NUL byte.
        return len;
    case ChecksumKind::Xxh64:
        store_le64(out.data(), XXH64_digest(xxh64_.get()));
        return len;
    case ChecksumKind::Xxh3:
        store_le64(out.data(), XXH3_64bits_digest(xxh3_.get()));
        return len;
    case ChecksumKind::Xxh128: {
        const XXH128_hash_t h = XXH3_128bits_digest(xxh3_.get());
        store_le64(out.data(), h.low64);
        store_le64(out.data() + 8, h.high64);
        return len;
    }
    case ChecksumKind::Md4Old:
    case ChecksumKind::Md4:
    case ChecksumKind::Md5:
    case ChecksumKind::Sha1:
        break;
    }
    return digest_->finish(out);
}

void spoil_file_checksum(std::span<std::uint8_t> sum) noexcept
{
    bool all_zero = true;
    for (std::uint8_t& b : sum) {
        all_zero = all_zero && b == 0;
        b = 0;
    }
    if (all_zero && !sum.empty())
        sum.back() = 1;
}

} // namespace ocr::protocol
