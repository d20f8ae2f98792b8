// SPDX-License-Identifier: MIT
// OpenSSL 3 EVP implementation of the digests, including the once-only provider setup for MD4.
#include "protocol/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include <algorithm>
#include <array>
#include <utility>

namespace ocr::protocol {
namespace {

constexpr std::size_t kAlgorithmCount = 5;

std::size_t index_of(DigestAlgorithm algorithm) noexcept
{
    return static_cast<std::size_t>(algorithm);
}

/// The fetched EVP_MD of every algorithm, or null for one that does not work here.
/// Built once per process; the objects stay alive until exit so that Digest can use them
/// from any thread without locking (EVP_MD objects are immutable once fetched).
class Algorithms {
public:
    Algorithms()
    {
        // Loading any provider by hand switches off OpenSSL's implicit loading of
        // "default", so both are loaded here. A missing legacy module (legacy.so) only
        // costs MD4, which is then reported unavailable.
        legacy_ = OSSL_PROVIDER_load(nullptr, "legacy");
        default_ = OSSL_PROVIDER_load(nullptr, "default");
        static constexpr std::array<const char*, kAlgorithmCount> kNames = {
            "MD4", "MD5", "SHA1", "SHA256", "SHA512"};
        for (std::size_t i = 0; i < kAlgorithmCount; ++i)
            md_[i] = fetch_working(kNames[i]);
        // Failed fetches leave entries on the thread's error queue; they are not
        // errors for anyone else who inspects that queue later.
        ERR_clear_error();
    }
    Algorithms(const Algorithms&) = delete;
    Algorithms& operator=(const Algorithms&) = delete;
    ~Algorithms()
    {
        // Runs before OpenSSL's own atexit cleanup (registered earlier, by the first
        // OpenSSL call in the constructor), so our references are dropped first and the
        // providers, including the legacy one's child library context, are freed.
        for (EVP_MD* md : md_)
            EVP_MD_free(md);
        if (legacy_ != nullptr)
            OSSL_PROVIDER_unload(legacy_);
        if (default_ != nullptr)
            OSSL_PROVIDER_unload(default_);
    }

    [[nodiscard]] const EVP_MD* get(DigestAlgorithm algorithm) const noexcept
    {
        return md_[index_of(algorithm)];
    }

private:
    // A fetch can succeed while initialisation still fails (e.g. an algorithm disabled by
    // configuration), so the digest is only accepted after a trial init, as upstream does
    // before advertising an EVP digest (Upstream: checksum.c:csum_evp_md).
    static EVP_MD* fetch_working(const char* name)
    {
        EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
        if (md == nullptr)
            return nullptr;
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        const bool ok = ctx != nullptr && EVP_DigestInit_ex2(ctx, md, nullptr) == 1;
        EVP_MD_CTX_free(ctx);
        if (!ok) {
            EVP_MD_free(md);
            return nullptr;
        }
        return md;
    }

    std::array<EVP_MD*, kAlgorithmCount> md_{};
    OSSL_PROVIDER* legacy_ = nullptr;
    OSSL_PROVIDER* default_ = nullptr;
};

const Algorithms& algorithms()
{
    // A function-local static gives the thread-safe once-only initialisation.
    static const Algorithms instance;
    return instance;
}

const EVP_MD* require(DigestAlgorithm algorithm)
{
    const EVP_MD* md = algorithms().get(algorithm);
    if (md == nullptr)
        throw DigestError(std::string("digest not available: ") +
                          std::string(digest_name(algorithm)));
    return md;
}

} // namespace

std::size_t digest_length(DigestAlgorithm algorithm) noexcept
{
    switch (algorithm) {
    case DigestAlgorithm::Md4:
    case DigestAlgorithm::Md5:
        return 16;
    case DigestAlgorithm::Sha1:
        return 20;
    case DigestAlgorithm::Sha256:
        return 32;
    case DigestAlgorithm::Sha512:
        return 64;
    }
    return 0;
}

std::string_view digest_name(DigestAlgorithm algorithm) noexcept
{
    switch (algorithm) {
    case DigestAlgorithm::Md4:
        return "md4";
    case DigestAlgorithm::Md5:
        return "md5";
    case DigestAlgorithm::Sha1:
        return "sha1";
    case DigestAlgorithm::Sha256:
        return "sha256";
    case DigestAlgorithm::Sha512:
        return "sha512";
    }
    return "";
}

bool digest_available(DigestAlgorithm algorithm) noexcept
{
    try {
        return algorithms().get(algorithm) != nullptr;
    } catch (...) {
        // Only std::bad_alloc during first initialisation can land here.
        return false;
    }
}

Digest::Digest(DigestAlgorithm algorithm) : algorithm_(algorithm)
{
    const EVP_MD* md = require(algorithm);
    ctx_ = EVP_MD_CTX_new();
    if (ctx_ == nullptr)
        throw DigestError("EVP_MD_CTX_new failed");
    if (EVP_DigestInit_ex2(ctx_, md, nullptr) != 1) {
        EVP_MD_CTX_free(ctx_);
        ctx_ = nullptr;
        throw DigestError("EVP_DigestInit_ex2 failed");
    }
}

Digest::~Digest()
{
    // EVP_MD_CTX_free cleanses the algorithm state before releasing it.
    EVP_MD_CTX_free(ctx_);
}

Digest::Digest(Digest&& other) noexcept
    : algorithm_(other.algorithm_), ctx_(std::exchange(other.ctx_, nullptr))
{
}

Digest& Digest::operator=(Digest&& other) noexcept
{
    if (this != &other) {
        EVP_MD_CTX_free(ctx_);
        algorithm_ = other.algorithm_;
        ctx_ = std::exchange(other.ctx_, nullptr);
    }
    return *this;
}

void Digest::update(std::span<const std::uint8_t> data)
{
    if (ctx_ == nullptr)
        throw DigestError("digest used after move");
    if (data.empty())
        return;
    if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1)
        throw DigestError("EVP_DigestUpdate failed");
}

void Digest::update(std::string_view data)
{
    update(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()),
                                         data.size()));
}

std::size_t Digest::finish(std::span<std::uint8_t> out)
{
    if (ctx_ == nullptr)
        throw DigestError("digest used after move");
    const std::size_t want = length();
    if (out.size() < want)
        throw std::invalid_argument("digest output buffer too short");
    // Finalise into a local buffer first: EVP writes EVP_MD_get_size() bytes, and the
    // length check above must be the only thing that decides what @p out receives.
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> tmp{};
    unsigned int got = 0;
    const bool ok = EVP_DigestFinal_ex(ctx_, tmp.data(), &got) == 1 && got == want;
    if (ok)
        std::copy_n(tmp.begin(), want, out.begin());
    OPENSSL_cleanse(tmp.data(), tmp.size());
    if (!ok)
        throw DigestError("EVP_DigestFinal_ex failed");
    reset();
    return want;
}

std::vector<std::uint8_t> Digest::finish()
{
    std::vector<std::uint8_t> out(length());
    finish(std::span<std::uint8_t>(out));
    return out;
}

void Digest::reset()
{
    if (ctx_ == nullptr)
        throw DigestError("digest used after move");
    if (EVP_DigestInit_ex2(ctx_, require(algorithm_), nullptr) != 1)
        throw DigestError("EVP_DigestInit_ex2 failed");
}

std::vector<std::uint8_t> compute_digest(DigestAlgorithm algorithm,
                                         std::span<const std::uint8_t> data)
{
    Digest d(algorithm);
    d.update(data);
    return d.finish();
}

std::vector<std::uint8_t> compute_digest(DigestAlgorithm algorithm, std::string_view data)
{
    Digest d(algorithm);
    d.update(data);
    return d.finish();
}

std::string digest_hex(std::span<const std::uint8_t> bytes)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0x0f]);
    }
    return out;
}

} // namespace ocr::protocol
