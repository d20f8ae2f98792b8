// SPDX-License-Identifier: MIT
// Checks of the TLS certificate chain and key with OpenSSL, run by the privileged side.
#include "frontend/tls_check.hpp"

#include "frontend/openssl_ptr.hpp"
#include "frontend/tls_context.hpp"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace ocr::frontend {
namespace {

BioPtr memory_bio(const std::string& bytes)
{
    return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string time_text(const ASN1_TIME* t)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || ASN1_TIME_print(bio.get(), t) != 1)
        return "?";
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n > 0 ? n : 0));
}

} // namespace

TlsCheckResult check_tls_material(const daemon::TlsMaterial& material, const daemon::GlobalSettings& g,
                                  std::time_t now)
{
    TlsCheckResult r;
    const std::string cert_name = "tls cert file " + g.tls_cert_file;
    auto bio = memory_bio(material.cert_chain_pem);
    X509Ptr leaf(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!leaf) {
        r.errors.push_back(cert_name + ": no PEM certificate in it (" + openssl_error_text() + ")");
        return r;
    }
    if (X509_cmp_time(X509_get0_notBefore(leaf.get()), &now) > 0)
        r.errors.push_back(cert_name + ": certificate is not valid before " +
                           time_text(X509_get0_notBefore(leaf.get())));
    if (X509_cmp_time(X509_get0_notAfter(leaf.get()), &now) < 0) {
        r.errors.push_back(cert_name + ": certificate expired on " + time_text(X509_get0_notAfter(leaf.get())));
    } else {
        std::time_t soon = now + static_cast<std::time_t>(kTlsExpiryWarningDays) * 24 * 3600;
        if (X509_cmp_time(X509_get0_notAfter(leaf.get()), &soon) < 0)
            r.warnings.push_back(cert_name + ": certificate expires on " +
                                 time_text(X509_get0_notAfter(leaf.get())) + ", within " +
                                 std::to_string(kTlsExpiryWarningDays) + " days");
    }
    if (!r.errors.empty())
        return r;
    // Key parsing, key/cert match, CA parsing and the cipher settings: exactly what serving
    // will do, so a file that passes here cannot fail later.
    try {
        (void)make_tls_context(material, g);
    } catch (const std::exception& e) {
        r.errors.push_back(e.what());
    }
    return r;
}

} // namespace ocr::frontend
