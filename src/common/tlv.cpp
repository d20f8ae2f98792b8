// SPDX-License-Identifier: MIT
#include "common/tlv.hpp"

#include <limits>
#include <stdexcept>

namespace ocr {
namespace {
void put_le(std::string& out, std::uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
std::uint64_t get_le(std::string_view in, std::size_t pos, int bytes)
{
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i)
        v = (v << 8) | static_cast<unsigned char>(in[pos + static_cast<std::size_t>(i)]);
    return v;
}
} // namespace

TlvWriter& TlvWriter::add(std::uint16_t tag, std::string_view bytes)
{
    if (bytes.size() > std::numeric_limits<std::uint32_t>::max())
        throw std::length_error("TLV field too long");
    put_le(out_, tag, 2);
    put_le(out_, bytes.size(), 4);
    out_.append(bytes);
    return *this;
}

TlvWriter& TlvWriter::add_int(std::uint16_t tag, std::int64_t value)
{
    std::string b;
    put_le(b, static_cast<std::uint64_t>(value), 8);
    return add(tag, b);
}

TlvWriter& TlvWriter::add_list(std::uint16_t tag, const std::vector<std::string>& items)
{
    for (const auto& item : items)
        add(tag, item);
    return *this;
}

std::optional<TlvReader> TlvReader::parse(std::string_view message, std::size_t max_fields)
{
    TlvReader r;
    std::size_t pos = 0;
    while (pos < message.size()) {
        if (message.size() - pos < 6 || r.fields_.size() >= max_fields)
            return std::nullopt;
        const auto tag = static_cast<std::uint16_t>(get_le(message, pos, 2));
        const std::uint64_t len = get_le(message, pos + 2, 4);
        pos += 6;
        if (len > message.size() - pos)
            return std::nullopt;
        r.fields_.push_back(Field{tag, message.substr(pos, static_cast<std::size_t>(len))});
        pos += static_cast<std::size_t>(len);
    }
    return r;
}

std::optional<std::string_view> TlvReader::get(std::uint16_t tag) const
{
    for (const auto& f : fields_)
        if (f.tag == tag)
            return f.bytes;
    return std::nullopt;
}

std::optional<std::int64_t> TlvReader::get_int(std::uint16_t tag) const
{
    auto f = get(tag);
    if (!f || f->size() != 8)
        return std::nullopt;
    return static_cast<std::int64_t>(get_le(*f, 0, 8));
}

std::vector<std::string> TlvReader::get_list(std::uint16_t tag) const
{
    std::vector<std::string> out;
    for (const auto& f : fields_)
        if (f.tag == tag)
            out.emplace_back(f.bytes);
    return out;
}

} // namespace ocr
