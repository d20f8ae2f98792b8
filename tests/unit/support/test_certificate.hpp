// SPDX-License-Identifier: MIT
// Test support: P-256 keys and self-signed certificates made in memory, for the TLS
// checks and the TLS record tests (no files, no openssl command).
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <string>

namespace ocr::test {

struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
    void operator()(X509* x) const { X509_free(x); }
};
struct MemBioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
using TestKey = std::unique_ptr<EVP_PKEY, KeyFree>;
using TestCert = std::unique_ptr<X509, CertFree>;

inline TestKey new_test_key()
{
    return TestKey(EVP_EC_gen("P-256"));
}

/// @brief A certificate for @p key with CN=localhost, signed by itself, valid from
///        @p now + @p from to @p now + @p to seconds.
inline TestCert self_signed(EVP_PKEY* key, long from, long to, std::time_t now = std::time(nullptr))
{
    TestCert x(X509_new());
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
    X509_time_adj(X509_getm_notBefore(x.get()), from, &now);
    X509_time_adj(X509_getm_notAfter(x.get()), to, &now);
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1,
                               -1, 0);
    X509_set_issuer_name(x.get(), name);
    X509_set_pubkey(x.get(), key);
    X509_sign(x.get(), key, EVP_sha256());
    return x;
}

inline std::string mem_bio_text(BIO* b)
{
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

inline std::string cert_to_pem(X509* cert)
{
    std::unique_ptr<BIO, MemBioFree> b(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(b.get(), cert);
    return mem_bio_text(b.get());
}

inline std::string key_to_pem(EVP_PKEY* key)
{
    std::unique_ptr<BIO, MemBioFree> b(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    return mem_bio_text(b.get());
}

} // namespace ocr::test
