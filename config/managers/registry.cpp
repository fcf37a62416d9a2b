#include <algorithm>

#include "config/managers/adapters.hpp"

namespace nixpm::managers {

std::string_view to_string(Support support) {
  switch (support) {
    case Support::supported: return "supported";
    case Support::emulated: return "emulated";
    case Support::lost: return "lost";
  }
  return "lost";
}

const std::vector<const ManagerAdapter*>& all_managers() {
  static const std::vector<const ManagerAdapter*> managers{
      &systemd_adapter(),  &supervisord_adapter(), &sysvinit_adapter(),
      &bsdrc_adapter(),    &launchd_adapter(),     &cygrunsrv_adapter(),
      &s6_rc_adapter(),    &runit_adapter(),       &s6_adapter(),
  };
  return managers;
}

const ManagerAdapter* find_manager(std::string_view name) {
  const auto& managers = all_managers();
  auto found = std::find_if(managers.begin(), managers.end(),
                            [&](const ManagerAdapter* manager) { return manager->name() == name; });
  return found == managers.end() ? nullptr : *found;
}

std::string known_manager_names() {
  std::string names;
  for (const auto* manager : all_managers()) {
    if (!names.empty()) names += ", ";
    names += manager->name();
  }
  return names;
}

}  // namespace nixpm::managers
