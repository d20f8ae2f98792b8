// SPDX-License-Identifier: MIT
// Message digests (MD4, MD5, SHA-1, SHA-256, SHA-512) over OpenSSL 3 EVP, one-shot and streaming.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct evp_md_ctx_st; // OpenSSL's EVP_MD_CTX, kept out of this header.

namespace ocr::protocol {

/// @brief The hash functions rsync uses for daemon auth and (some of them) for file sums.
enum class DigestAlgorithm { Md4, Md5, Sha1, Sha256, Sha512 };

/// @brief The longest digest any DigestAlgorithm produces (SHA-512), in bytes.
inline constexpr std::size_t kMaxDigestLength = 64;

/// @brief Thrown when a digest is requested that this process cannot compute
///        (MD4 when OpenSSL's "legacy" provider is missing) or OpenSSL fails.
class DigestError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief Output size of @p algorithm in bytes (16, 16, 20, 32, 64).
[[nodiscard]] std::size_t digest_length(DigestAlgorithm algorithm) noexcept;

/// @brief Lower-case name as rsync spells it ("md4", "md5", "sha1", "sha256", "sha512").
[[nodiscard]] std::string_view digest_name(DigestAlgorithm algorithm) noexcept;

/// @brief Whether this process can compute @p algorithm.
///
/// Everything but MD4 comes from OpenSSL's default provider. MD4 needs the "legacy"
/// provider; the first call of any function in this file loads it once (thread-safe) and
/// reports MD4 unavailable if that fails instead of failing later.
[[nodiscard]] bool digest_available(DigestAlgorithm algorithm) noexcept;

/// @brief A streaming digest computation. Not thread-safe; one object per computation.
///
/// The internal state is wiped (OpenSSL cleanses it) on finish(), reset() and destruction,
/// so it may be fed secrets.
class Digest {
public:
    /// @brief Starts an empty computation.
    /// @param algorithm which hash to compute.
    /// @throw DigestError if @p algorithm is unavailable or OpenSSL fails.
    explicit Digest(DigestAlgorithm algorithm);
    ~Digest();
    Digest(Digest&& other) noexcept;
    Digest& operator=(Digest&& other) noexcept;
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;

    /// @brief Feeds @p data.
    /// @throw DigestError if OpenSSL fails or the object was moved from.
    void update(std::span<const std::uint8_t> data);
    /// @brief Feeds the bytes of @p data.
    /// @throw DigestError if OpenSSL fails or the object was moved from.
    void update(std::string_view data);

    /// @brief Writes the digest to the start of @p out and starts a new empty computation.
    /// @param out receives length() bytes; must be at least that long.
    /// @return the number of bytes written (length()).
    /// @throw std::invalid_argument if @p out is too short; DigestError if OpenSSL fails.
    std::size_t finish(std::span<std::uint8_t> out);
    /// @brief Returns the digest and starts a new empty computation.
    /// @throw DigestError if OpenSSL fails.
    [[nodiscard]] std::vector<std::uint8_t> finish();

    /// @brief Discards what was fed so far.
    /// @throw DigestError if OpenSSL fails or the object was moved from.
    void reset();

    [[nodiscard]] DigestAlgorithm algorithm() const noexcept { return algorithm_; }
    [[nodiscard]] std::size_t length() const noexcept { return digest_length(algorithm_); }

private:
    DigestAlgorithm algorithm_;
    evp_md_ctx_st* ctx_ = nullptr;
};

/// @brief One-shot digest of @p data.
/// @throw DigestError if @p algorithm is unavailable or OpenSSL fails.
[[nodiscard]] std::vector<std::uint8_t> compute_digest(DigestAlgorithm algorithm,
                                                       std::span<const std::uint8_t> data);

/// @brief One-shot digest of the bytes of @p data.
/// @throw DigestError if @p algorithm is unavailable or OpenSSL fails.
[[nodiscard]] std::vector<std::uint8_t> compute_digest(DigestAlgorithm algorithm,
                                                       std::string_view data);

/// @brief Lower-case hex of @p bytes (for logs and tests).
[[nodiscard]] std::string digest_hex(std::span<const std::uint8_t> bytes);

} // namespace ocr::protocol
