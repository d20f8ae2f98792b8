// SPDX-License-Identifier: MIT
#include "daemon/config_package.hpp"

#include "common/tlv.hpp"

#include <cstdint>

namespace ocr::daemon {
namespace {
enum Tag : std::uint16_t {
    kHasConfigPath = 1,
    kConfigPath,
    kDparamName,
    kDparamValue,
    kModuleName,
    kModulePath,
    kModuleWritable,
    kEnvName,
    kEnvValue,
    kBundle,
    kHasLogFileFormat,
    kLogFileFormat,
    kBwlimit,
};
} // namespace

std::string encode_config_package(const LoadOptions& options, const Config& config)
{
    TlvWriter w;
    w.add_bool(kHasConfigPath, options.config_path.has_value());
    w.add(kConfigPath, options.config_path.value_or(""));
    for (const auto& [name, value] : options.dparams)
        w.add(kDparamName, name).add(kDparamValue, value);
    for (const auto& m : options.cli_modules)
        w.add(kModuleName, m.name).add(kModulePath, m.path).add(kModuleWritable, m.writable ? "1" : "0");
    for (const auto& [name, value] : options.environment)
        w.add(kEnvName, name).add(kEnvValue, value);
    w.add_bool(kHasLogFileFormat, options.session.log_file_format.has_value());
    w.add(kLogFileFormat, options.session.log_file_format.value_or(""));
    w.add_int(kBwlimit, options.session.bwlimit_kib);
    w.add(kBundle, config.bundle().serialize());
    return w.bytes();
}

std::optional<ConfigPackage> decode_config_package(std::string_view bytes)
{
    auto r = TlvReader::parse(bytes);
    if (!r)
        return std::nullopt;
    ConfigPackage p;
    auto has_path = r->get_int(kHasConfigPath);
    auto path = r->get(kConfigPath);
    auto bundle = r->get(kBundle);
    auto has_format = r->get_int(kHasLogFileFormat);
    auto format = r->get(kLogFileFormat);
    auto bwlimit = r->get_int(kBwlimit);
    if (!has_path || !path || !bundle || !has_format || !format || !bwlimit || *bwlimit < 0 ||
        *bwlimit > INT32_MAX)
        return std::nullopt;
    if (*has_format)
        p.options.session.log_file_format = std::string(*format);
    p.options.session.bwlimit_kib = static_cast<int>(*bwlimit);
    if (*has_path)
        p.options.config_path = std::string(*path);
    const auto dnames = r->get_list(kDparamName);
    const auto dvalues = r->get_list(kDparamValue);
    const auto mnames = r->get_list(kModuleName);
    const auto mpaths = r->get_list(kModulePath);
    const auto mwrite = r->get_list(kModuleWritable);
    const auto enames = r->get_list(kEnvName);
    const auto evalues = r->get_list(kEnvValue);
    if (dnames.size() != dvalues.size() || mnames.size() != mpaths.size() ||
        mnames.size() != mwrite.size() || enames.size() != evalues.size())
        return std::nullopt;
    for (std::size_t i = 0; i < dnames.size(); ++i)
        p.options.dparams.emplace_back(dnames[i], dvalues[i]);
    for (std::size_t i = 0; i < mnames.size(); ++i)
        p.options.cli_modules.push_back(CliModule{mnames[i], mpaths[i], mwrite[i] == "1"});
    for (std::size_t i = 0; i < enames.size(); ++i)
        p.options.environment.emplace(enames[i], evalues[i]);
    auto b = FileBundle::deserialize(*bundle);
    if (!b)
        return std::nullopt;
    p.bundle = std::move(*b);
    return p;
}

LoadResult load_config_package(const ConfigPackage& package)
{
    BundleFileSource source(package.bundle);
    return load_config(package.options, source);
}

} // namespace ocr::daemon
