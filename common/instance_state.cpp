#include "instance_state.hpp"

#include <array>
#include <utility>

namespace nixpm {
namespace {
constexpr std::array<std::pair<InstanceState, std::string_view>, 7> kNames{{
    {InstanceState::stopped, "stopped"},
    {InstanceState::starting, "starting"},
    {InstanceState::running, "running"},
    {InstanceState::stopping, "stopping"},
    {InstanceState::backoff, "backoff"},
    {InstanceState::failed, "failed"},
    {InstanceState::done, "done"},
}};
}  // namespace

std::string_view to_string(InstanceState state) {
  for (const auto& [value, name] : kNames)
    if (value == state) return name;
  return "unknown";
}

std::optional<InstanceState> instance_state_from_string(std::string_view text) {
  for (const auto& [value, name] : kNames)
    if (name == text) return value;
  return std::nullopt;
}

}  // namespace nixpm
