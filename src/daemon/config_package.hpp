// SPDX-License-Identifier: MIT
// A config "package": the load options plus every file the privileged process read,
// so that unprivileged processes rebuild the identical Config without touching disk.
#pragma once

#include "daemon/config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace ocr::daemon {

/// @brief Serializes @p options and @p config's bundle.
[[nodiscard]] std::string encode_config_package(const LoadOptions& options, const Config& config);

/// @brief The options and bundle of a package.
struct ConfigPackage {
    LoadOptions options;
    FileBundle bundle;
};

/// @brief Parses a package; nullopt if it is malformed (it crosses a process boundary).
[[nodiscard]] std::optional<ConfigPackage> decode_config_package(std::string_view bytes);

/// @brief Rebuilds the Config from a package (replaying its bundle).
[[nodiscard]] LoadResult load_config_package(const ConfigPackage& package);

} // namespace ocr::daemon
