// SPDX-License-Identifier: MIT
// rsync's strong checksums: the kinds a transfer can use, and the seeded block sum, the
// whole-file sum and the --checksum file-list sum computed with upstream's seed rules.
#pragma once

#include "protocol/digest.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

// xxhash's streaming states, kept out of this header.
struct XXH64_state_s;
struct XXH3_state_s;

namespace ocr::protocol {

/// @brief The strong checksums a transfer can use (upstream lib/md-defines.h CSUM_*).
///
/// Protocols below 27 used two further MD4 variants ("archaic", "busted"); ocrsyncd only
/// speaks 27 and up, so they do not exist here.
enum class ChecksumKind {
    None,   ///< "none": no block sums (whole-file transfers), a one-byte zero file sum
    Md4Old, ///< the MD4 that protocols 27..29 imply when no name is negotiated
    Md4,    ///< "md4" chosen by name
    Md5,    ///< "md5", and what protocol 30+ implies without negotiation
    Sha1,   ///< "sha1"
    Xxh64,  ///< "xxh64" (alias "xxhash")
    Xxh3,   ///< "xxh3": XXH3 64-bit
    Xxh128, ///< "xxh128": XXH3 128-bit
};

/// The longest digest any ChecksumKind produces (SHA-1), in bytes.
inline constexpr std::size_t kMaxChecksumLength = 20;

/// @brief Upstream's name of @p kind ("md4" for both MD4 kinds, "none" for None).
[[nodiscard]] std::string_view checksum_name(ChecksumKind kind) noexcept;

/// @brief Digest length of @p kind in bytes (upstream checksum.c:csum_len_for_type):
///        16 for MD4/MD5/xxh128, 20 for SHA-1, 8 for xxh64/xxh3, 1 for none.
[[nodiscard]] std::size_t checksum_length(ChecksumKind kind) noexcept;

/// @brief A digest of @p kind in hex as the log's %C shows it (upstream util2.c:sum_as_hex
///        with checksum.c:canonical_checksum): MD4, MD5 and SHA-1 byte by byte, the xxhash
///        kinds from the last byte (their big-endian value); nullopt for none and the old
///        MD4 forms, which have no canonical spelling. Uses the first checksum_length() bytes.
[[nodiscard]] std::optional<std::string> checksum_hex(ChecksumKind kind, std::span<const std::byte> sum);

/// @brief The kind a checksum name selects, matched case-insensitively as upstream's
///        compat.c:get_nni_by_name does ("xxhash" is xxh64). Never returns Md4Old.
[[nodiscard]] std::optional<ChecksumKind> checksum_by_name(std::string_view name) noexcept;

/// @brief Where the 4 seed bytes go in an MD4 or MD5 block sum.
///
/// Upstream has two code paths: OpenSSL's EVP digests hash the seed first, its built-in
/// MD4/MD5 code hashes it after the data unless the peers agreed on CF_CHKSUM_SEED_FIX.
/// Which path a peer takes depends on how the kind was chosen and on its build (see
/// negotiate_checksums()). SHA-1 always puts the seed first; the xxhash kinds take the
/// seed as their own seed parameter; so only MD4 and MD5 look at this.
enum class SeedPlacement { Prepend, Append };

/// @brief The transfer checksum of a session: its kind plus the MD4/MD5 seed placement.
struct TransferChecksum {
    ChecksumKind kind = ChecksumKind::Md5;
    SeedPlacement seed_placement = SeedPlacement::Prepend;

    friend bool operator==(const TransferChecksum&, const TransferChecksum&) = default;
};

/// @brief The per-block strong sum ("sum2", upstream checksum.c:get_checksum2).
///
/// The seed (the session's int32 checksum seed, hashed as 4 little-endian bytes) is left
/// out entirely when it is 0, except by the xxhash kinds, which always use it as their
/// 64-bit seed (sign-extended). Reuses one digest context for all blocks.
class BlockChecksum {
public:
    /// @brief Prepares block sums of @p sum seeded with @p seed.
    /// @throw DigestError if the digest is not available in this process (MD4 without
    ///        OpenSSL's legacy provider).
    BlockChecksum(TransferChecksum sum, std::int32_t seed);
    ~BlockChecksum();
    BlockChecksum(BlockChecksum&&) noexcept;
    BlockChecksum& operator=(BlockChecksum&&) noexcept;
    BlockChecksum(const BlockChecksum&) = delete;
    BlockChecksum& operator=(const BlockChecksum&) = delete;

    /// @brief Bytes compute() writes (checksum_length() of the kind).
    [[nodiscard]] std::size_t length() const noexcept { return checksum_length(sum_.kind); }
    [[nodiscard]] TransferChecksum checksum() const noexcept { return sum_; }
    [[nodiscard]] std::int32_t seed() const noexcept { return seed_; }

    /// @brief Writes the strong sum of @p block to the start of @p out.
    /// @param out at least length() bytes.
    /// @return length().
    /// @throw std::invalid_argument if @p out is too short; ProtocolError (Unsupported) for
    ///        ChecksumKind::None, which has no block sum (upstream exits the same way);
    ///        DigestError if OpenSSL fails.
    std::size_t compute(std::span<const std::uint8_t> block, std::span<std::uint8_t> out);

private:
    TransferChecksum sum_;
    std::int32_t seed_;
    std::optional<Digest> digest_;
};

/// @brief A streaming whole-file sum: the one a sender appends after a file's delta
///        (upstream checksum.c:sum_init/sum_update/sum_end) or the --checksum sum in the file
///        list (checksum.c:file_checksum).
///
/// Both are unseeded except the transfer sum of Md4Old, which hashes the seed first, even
/// a zero one.
class FileChecksum {
public:
    /// @brief The sum a sender sends after each file's tokens.
    /// @throw DigestError if the digest is not available in this process.
    [[nodiscard]] static FileChecksum for_transfer(ChecksumKind kind, std::int32_t seed);
    /// @brief The sum of a regular file in a --checksum file list.
    /// @throw ProtocolError (Unsupported) for ChecksumKind::None, with upstream's text
    ///        "Invalid checksum-choice for --checksum: none (0)"; DigestError as above.
    [[nodiscard]] static FileChecksum for_file_list(ChecksumKind kind);

    ~FileChecksum();
    FileChecksum(FileChecksum&&) noexcept;
    FileChecksum& operator=(FileChecksum&&) noexcept;
    FileChecksum(const FileChecksum&) = delete;
    FileChecksum& operator=(const FileChecksum&) = delete;

    [[nodiscard]] ChecksumKind kind() const noexcept { return kind_; }
    /// @brief Bytes finish() writes (checksum_length() of the kind).
    [[nodiscard]] std::size_t length() const noexcept { return checksum_length(kind_); }

    /// @brief Feeds the next bytes of the file.
    /// @throw DigestError if OpenSSL fails.
    void update(std::span<const std::uint8_t> data);

    /// @brief Writes the sum to the start of @p out; the object must not be used afterwards.
    /// @param out at least length() bytes.
    /// @return length().
    /// @throw std::invalid_argument if @p out is too short; std::logic_error if called
    ///        twice; DigestError if OpenSSL fails.
    std::size_t finish(std::span<std::uint8_t> out);

private:
    struct XxhDeleter {
        void operator()(XXH64_state_s* state) const noexcept;
        void operator()(XXH3_state_s* state) const noexcept;
    };

    explicit FileChecksum(ChecksumKind kind);

    ChecksumKind kind_;
    bool finished_ = false;
    std::optional<Digest> digest_;
    std::unique_ptr<XXH64_state_s, XxhDeleter> xxh64_;
    std::unique_ptr<XXH3_state_s, XxhDeleter> xxh3_;
};

/// @brief Turns @p sum into one that cannot match: what a sender sends after a read error
///        so that the receiver redoes the file (upstream match.c:match_sums). All bytes
///        become zero, or, if they already were, the last one becomes 1.
void spoil_file_checksum(std::span<std::uint8_t> sum) noexcept;

} // namespace ocr::protocol
