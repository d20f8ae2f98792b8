// SPDX-License-Identifier: MIT
// Reading and packing the TLS certificate, key and CA files.
#include "daemon/tls_material.hpp"

#include "common/tlv.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ocr::daemon {
namespace {

constexpr int kDefaultTlsPort = 874;
// PEM files of a few certificates are kilobytes; this only stops a wrong path (a log, a disk
// image) from being swallowed whole.
constexpr std::size_t kMaxPemBytes = 1 << 20;

enum Tag : std::uint16_t { kCert = 1, kKey = 2, kCa = 3 };

bool read_file(const std::string& path, const char* what, std::string& out, std::string& error)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = std::string(what) + " " + path + ": " + std::strerror(errno);
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    if (in.bad()) {
        error = std::string(what) + " " + path + ": read error";
        return false;
    }
    if (out.size() > kMaxPemBytes) {
        error = std::string(what) + " " + path + " is larger than 1 MiB";
        return false;
    }
    if (out.empty()) {
        error = std::string(what) + " " + path + " is empty";
        return false;
    }
    return true;
}

} // namespace

int tls_port_for(const GlobalSettings& g)
{
    if (g.tls_cert_file.empty())
        return 0;
    return g.tls_port > 0 ? g.tls_port : kDefaultTlsPort;
}

std::optional<TlsMaterial> read_tls_material(const GlobalSettings& g, std::string& error)
{
    TlsMaterial m;
    if (!read_file(g.tls_cert_file, "tls cert file", m.cert_chain_pem, error))
        return std::nullopt;
    if (g.tls_key_file.empty())
        m.key_pem = m.cert_chain_pem;
    else if (!read_file(g.tls_key_file, "tls key file", m.key_pem, error))
        return std::nullopt;
    if (!g.tls_ca_file.empty() && !read_file(g.tls_ca_file, "tls ca file", m.ca_pem, error))
        return std::nullopt;
    return m;
}

std::string encode_tls_material(const TlsMaterial& m)
{
    TlvWriter w;
    w.add(kCert, m.cert_chain_pem).add(kKey, m.key_pem).add(kCa, m.ca_pem);
    return w.bytes();
}

std::optional<TlsMaterial> decode_tls_material(std::string_view bytes)
{
    auto r = TlvReader::parse(bytes);
    if (!r)
        return std::nullopt;
    auto cert = r->get(kCert);
    auto key = r->get(kKey);
    auto ca = r->get(kCa);
    if (!cert || !key || !ca)
        return std::nullopt;
    return TlsMaterial{std::string(*cert), std::string(*key), std::string(*ca)};
}

} // namespace ocr::daemon
