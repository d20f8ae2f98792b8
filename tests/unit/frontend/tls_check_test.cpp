// SPDX-License-Identifier: MIT
// Unit tests for the start-up/reload checks of the TLS certificate and key.
#include "frontend/tls_check.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace ocr::frontend {
namespace {

struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

constexpr std::time_t kNow = 1'800'000'000;

Key new_key()
{
    return Key(EVP_EC_gen("P-256"));
}

std::string drain(BIO* b)
{
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

// A self-signed certificate for @p key valid from now+from to now+to seconds.
std::string cert_pem(EVP_PKEY* key, long from, long to)
{
    std::unique_ptr<X509, X509Free> x(X509_new());
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
    X509_time_adj(X509_getm_notBefore(x.get()), from, const_cast<std::time_t*>(&kNow));
    X509_time_adj(X509_getm_notAfter(x.get()), to, const_cast<std::time_t*>(&kNow));
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1,
                               -1, 0);
    X509_set_issuer_name(x.get(), name);
    X509_set_pubkey(x.get(), key);
    X509_sign(x.get(), key, EVP_sha256());
    std::unique_ptr<BIO, BioFree> b(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(b.get(), x.get());
    return drain(b.get());
}

std::string key_pem(EVP_PKEY* key)
{
    std::unique_ptr<BIO, BioFree> b(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    return drain(b.get());
}

daemon::GlobalSettings settings()
{
    daemon::GlobalSettings g;
    g.tls_cert_file = "/etc/cert.pem";
    g.tls_key_file = "/etc/key.pem";
    return g;
}

constexpr long kDay = 24 * 3600;

// Verifies that a matching certificate and key valid for months pass without warnings.
TEST(TlsCheck, GoodPairPasses)
{
    Key k = new_key();
    const auto r = check_tls_material({cert_pem(k.get(), -kDay, 90 * kDay), key_pem(k.get()), ""}, settings(), kNow);
    EXPECT_TRUE(r.errors.empty()) << r.errors.front();
    EXPECT_TRUE(r.warnings.empty());
}

// Verifies that an expired certificate is an error that says so.
TEST(TlsCheck, ExpiredIsRefused)
{
    Key k = new_key();
    const auto r = check_tls_material({cert_pem(k.get(), -90 * kDay, -kDay), key_pem(k.get()), ""}, settings(), kNow);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("expired"), std::string::npos) << r.errors[0];
}

// Verifies that a certificate not valid yet is an error.
TEST(TlsCheck, NotYetValidIsRefused)
{
    Key k = new_key();
    const auto r = check_tls_material({cert_pem(k.get(), kDay, 90 * kDay), key_pem(k.get()), ""}, settings(), kNow);
    ASSERT_FALSE(r.errors.empty());
    EXPECT_NE(r.errors[0].find("not valid before"), std::string::npos) << r.errors[0];
}

// Verifies the 14-day expiry warning, and that 15 days out there is none.
TEST(TlsCheck, WarnsWithinFourteenDays)
{
    Key k = new_key();
    auto r = check_tls_material({cert_pem(k.get(), -kDay, 13 * kDay), key_pem(k.get()), ""}, settings(), kNow);
    EXPECT_TRUE(r.errors.empty());
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_NE(r.warnings[0].find("within 14 days"), std::string::npos);
    r = check_tls_material({cert_pem(k.get(), -kDay, 15 * kDay), key_pem(k.get()), ""}, settings(), kNow);
    EXPECT_TRUE(r.warnings.empty());
}

// Verifies that a key that is not the certificate's is refused.
TEST(TlsCheck, MismatchedKeyIsRefused)
{
    Key k = new_key();
    Key other = new_key();
    const auto r = check_tls_material({cert_pem(k.get(), -kDay, 90 * kDay), key_pem(other.get()), ""}, settings(), kNow);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("tls key file"), std::string::npos) << r.errors[0];
}

// Verifies that bytes that are no certificate, or no key, are refused with the file named.
TEST(TlsCheck, GarbageIsRefused)
{
    Key k = new_key();
    auto r = check_tls_material({"not a certificate", key_pem(k.get()), ""}, settings(), kNow);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("tls cert file /etc/cert.pem"), std::string::npos) << r.errors[0];
    r = check_tls_material({cert_pem(k.get(), -kDay, 90 * kDay), "not a key", ""}, settings(), kNow);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("tls key file /etc/key.pem"), std::string::npos) << r.errors[0];
}

// Verifies that client verification without a CA file is refused at start.
TEST(TlsCheck, VerifyClientNeedsCa)
{
    Key k = new_key();
    auto g = settings();
    g.tls_verify_client = daemon::TlsVerifyClient::Require;
    const auto r = check_tls_material({cert_pem(k.get(), -kDay, 90 * kDay), key_pem(k.get()), ""}, g, kNow);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("tls ca file"), std::string::npos) << r.errors[0];
}

} // namespace
} // namespace ocr::frontend
