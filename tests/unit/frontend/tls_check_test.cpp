// SPDX-License-Identifier: MIT
// Unit tests for the start-up/reload checks of the TLS certificate and key.
#include "frontend/tls_check.hpp"

#include "support/test_certificate.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ocr::frontend {
namespace {

using test::new_test_key;
using Key = test::TestKey;

constexpr std::time_t kNow = 1'800'000'000;

Key new_key()
{
    return new_test_key();
}

// A self-signed certificate for @p key valid from now+from to now+to seconds.
std::string cert_pem(EVP_PKEY* key, long from, long to)
{
    return test::cert_to_pem(test::self_signed(key, from, to, kNow).get());
}

std::string key_pem(EVP_PKEY* key)
{
    return test::key_to_pem(key);
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
