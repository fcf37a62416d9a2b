#pragma once
// One resource limit of an instance (`rlimits` in the definitions), applied with setrlimit in the
// child before exec. Kept apart from model.hpp, and free of system headers, so that the spawner seam
// can carry it without pulling in the whole model.

#include <cstdint>
#include <optional>
#include <string>

namespace nixpm::config {

struct ResourceLimit {
  // setrlimit's resource in lower case without RLIMIT_ ("nofile", "core", "as", ...); see
  // resource_limit_names() in config/properties.hpp for the accepted ones.
  std::string name;
  // A missing value keeps what nixpmd has (a missing soft value never exceeds the new hard one).
  std::optional<std::uint64_t> soft;
  std::optional<std::uint64_t> hard;
  bool operator==(const ResourceLimit&) const = default;
};

// The value that stands for "infinity" (no limit), i.e. RLIM_INFINITY.
inline constexpr std::uint64_t kUnlimited = UINT64_MAX;

}  // namespace nixpm::config
