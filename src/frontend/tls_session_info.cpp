// SPDX-License-Identifier: MIT
// Reading the negotiated version, cipher and client certificate names from an SSL session.
#include "frontend/tls_session_info.hpp"

#include "frontend/openssl_ptr.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <memory>

namespace ocr::frontend {
namespace {

std::string subject_text(X509* cert)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0)
        return "?";
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

// A name usable as an rsync user: printable ASCII without spaces or commas, which the
// "auth users" list and the logs would split on. Anything else is not taken.
bool usable_user_name(std::string_view s)
{
    if (s.empty() || s.size() > 255)
        return false;
    for (unsigned char c : s)
        if (c <= ' ' || c >= 0x7F || c == ',')
            return false;
    return true;
}

std::optional<std::string> common_name(X509* cert)
{
    X509_NAME* name = X509_get_subject_name(cert);
    const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0)
        return std::nullopt;
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0)
        return std::nullopt;
    std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
    return out;
}

std::optional<std::string> first_alt_name(X509* cert, int type)
{
    GeneralNamesPtr names(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    if (!names)
        return std::nullopt;
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
        if (gn->type != type)
            continue;
        const ASN1_IA5STRING* s = gn->d.ia5;
        return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<std::size_t>(ASN1_STRING_length(s)));
    }
    return std::nullopt;
}

} // namespace

TlsSessionInfo describe_tls_session(SSL* ssl, daemon::TlsUserFrom user_from)
{
    TlsSessionInfo info;
    info.version = SSL_get_version(ssl);
    info.cipher = SSL_get_cipher_name(ssl);
    X509Ptr cert(SSL_get1_peer_certificate(ssl));
    if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
        return info;
    info.subject = subject_text(cert.get());
    std::optional<std::string> user;
    switch (user_from) {
    case daemon::TlsUserFrom::None:
        break;
    case daemon::TlsUserFrom::Cn:
        user = common_name(cert.get());
        break;
    case daemon::TlsUserFrom::SanEmail:
        user = first_alt_name(cert.get(), GEN_EMAIL);
        break;
    case daemon::TlsUserFrom::SanDns:
        user = first_alt_name(cert.get(), GEN_DNS);
        break;
    }
    if (user && usable_user_name(*user))
        info.user = std::move(user);
    return info;
}

} // namespace ocr::frontend
