#include "logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace nixpm {

bool setup_logging(std::string_view program, std::string_view level) {
  auto logger = spdlog::stderr_color_st(std::string(program));
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %n %^%l%$: %v");
  spdlog::set_default_logger(logger);
  const auto parsed = spdlog::level::from_str(std::string(level));
  // from_str answers "off" for anything it does not know; only accept "off" when it was asked for.
  if (parsed == spdlog::level::off && level != "off") {
    spdlog::set_level(spdlog::level::info);
    return false;
  }
  spdlog::set_level(parsed);
  return true;
}

}  // namespace nixpm
