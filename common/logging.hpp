#pragma once
// spdlog set-up for both binaries: messages go to stderr, with the level named by --log-level.

#include <string_view>

namespace nixpm {

// Configures the default logger. Returns false (and keeps "info") when `level` is not a level name.
bool setup_logging(std::string_view program, std::string_view level);

}  // namespace nixpm
