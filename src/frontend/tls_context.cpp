// SPDX-License-Identifier: MIT
// Server TLS context: TLS 1.2+ only, no renegotiation, forward-secret AEAD ciphers by default.
#include "frontend/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace ocr::frontend {
namespace {

// TLS 1.2 suites: ECDHE key exchange with an AEAD only.
constexpr const char* kDefaultCiphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// TLS 1.3: OpenSSL's three suites, AES-128-GCM first. Bulk transfers are bound by the
// cipher on both ends, and AES-128 does fewer rounds than AES-256 at no loss that matters here.
constexpr const char* kDefaultCiphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr unsigned char kSessionContext[] = "ocrsyncd";

[[noreturn]] void fail(const std::string& what)
{
    throw std::runtime_error(what + ": " + openssl_error_text());
}

} // namespace

std::string openssl_error_text()
{
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0)
        return "unknown error";
    const char* reason = ERR_reason_error_string(e);
    return reason ? reason : ("error " + std::to_string(e));
}

std::shared_ptr<ssl::context> make_tls_context(const daemon::TlsMaterial& material, const daemon::GlobalSettings& g)
{
    ERR_clear_error();
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    const int min_version = g.tls_min_version == daemon::TlsVersion::Tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(native, min_version) != 1)
        fail("tls min version");
    // Renegotiation only ever served attacks on a server like this one; compression leaks
    // plaintext lengths (CRIME).
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                    SSL_OP_NO_TICKET);
    // rsync-ssl never resumes a session (each transfer runs a fresh openssl s_client or
    // stunnel), so the two tickets TLS 1.3 sends by default would be wasted work and bytes.
    SSL_CTX_set_num_tickets(native, 0);
    const std::string ciphers = g.tls_ciphers.empty() ? kDefaultCiphers : g.tls_ciphers;
    if (SSL_CTX_set_cipher_list(native, ciphers.c_str()) != 1)
        fail("tls ciphers \"" + ciphers + "\"");
    const std::string suites = g.tls_ciphersuites.empty() ? kDefaultCiphersuites : g.tls_ciphersuites;
    if (SSL_CTX_set_ciphersuites(native, suites.c_str()) != 1)
        fail("tls ciphersuites \"" + suites + "\"");

    boost::system::error_code ec;
    ctx->use_certificate_chain(asio::buffer(material.cert_chain_pem), ec);
    if (ec)
        throw std::runtime_error("tls cert file " + g.tls_cert_file + ": " + ec.message());
    ctx->use_private_key(asio::buffer(material.key_pem), ssl::context::pem, ec);
    if (ec)
        throw std::runtime_error("tls key file " + (g.tls_key_file.empty() ? g.tls_cert_file : g.tls_key_file) +
                                 ": " + ec.message());
    if (SSL_CTX_check_private_key(native) != 1)
        fail("tls key file does not match tls cert file");

    if (g.tls_verify_client != daemon::TlsVerifyClient::No) {
        if (material.ca_pem.empty())
            throw std::runtime_error("\"tls verify client\" needs \"tls ca file\"");
        ctx->add_certificate_authority(asio::buffer(material.ca_pem), ec);
        if (ec)
            throw std::runtime_error("tls ca file " + g.tls_ca_file + ": " + ec.message());
        auto mode = ssl::verify_peer;
        if (g.tls_verify_client == daemon::TlsVerifyClient::Require)
            mode |= ssl::verify_fail_if_no_peer_cert;
        ctx->set_verify_mode(mode);
        // Resumed sessions must stay bound to this server's verification settings.
        SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
    }
    return ctx;
}

} // namespace ocr::frontend
