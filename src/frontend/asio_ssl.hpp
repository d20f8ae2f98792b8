// SPDX-License-Identifier: MIT
// The one way the front-end includes Boost.Asio's TLS stream (OpenSSL underneath).
#pragma once

#include "frontend/asio.hpp"

#include <boost/asio/ssl.hpp>

namespace ocr::frontend {
namespace ssl = asio::ssl;
} // namespace ocr::frontend
