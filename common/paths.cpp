#include "paths.hpp"

#include <cstdlib>

namespace nixpm {
namespace fs = std::filesystem;

namespace {

std::optional<std::string> non_empty(const EnvLookup& env, std::string_view name) {
  auto value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

fs::path home_dir(const EnvLookup& env) {
  if (auto home = non_empty(env, "HOME")) return *home;
  return "/";
}

// XDG base directory with its documented fallback under $HOME.
fs::path xdg_dir(const EnvLookup& env, std::string_view variable, std::string_view fallback_under_home) {
  if (auto dir = non_empty(env, variable)) return *dir;
  return home_dir(env) / fs::path(fallback_under_home);
}

// An override wins over a NIXPROC_* variable, which wins over the default.
fs::path pick(const std::optional<fs::path>& override_value, const EnvLookup& env,
              std::string_view variable, const fs::path& fallback) {
  if (override_value) return *override_value;
  if (auto value = non_empty(env, variable)) return *value;
  return fallback;
}

bool truthy(const std::optional<std::string>& value) {
  return value && (*value == "1" || *value == "true" || *value == "yes");
}

}  // namespace

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

Mode default_mode(uid_t uid) { return uid == 0 ? Mode::system : Mode::user; }

Paths resolve_paths(const PathOverrides& overrides, const EnvLookup& env, uid_t uid) {
  Paths paths;
  paths.mode = overrides.mode.value_or(default_mode(uid));
  const bool user = paths.mode == Mode::user;

  paths.config_file = overrides.config_file.value_or(
      user ? xdg_dir(env, "XDG_CONFIG_HOME", ".config") / "nixpm" / "processes.yaml"
           : fs::path("/etc/nixpm/processes.yaml"));

  fs::path default_socket;
  if (!user) {
    default_socket = "/run/nixpm/control.sock";
  } else if (auto runtime = non_empty(env, "XDG_RUNTIME_DIR")) {
    default_socket = fs::path(*runtime) / "nixpm" / "control.sock";
  } else {
    fs::path tmp = non_empty(env, "TMPDIR").value_or("/tmp");
    default_socket = tmp / ("nixpm-" + std::to_string(uid)) / "control.sock";
  }
  if (overrides.socket) {
    paths.socket = *overrides.socket;
  } else if (auto socket = non_empty(env, "NIXPM_SOCKET")) {
    paths.socket = *socket;
  } else {
    paths.socket = default_socket;
  }

  const fs::path default_state = user ? xdg_dir(env, "XDG_STATE_HOME", ".local/state") / "nixpm" : fs::path("/var");
  paths.state_dir = pick(overrides.state_dir, env, "NIXPROC_STATE_DIR", default_state);
  paths.runtime_dir = pick(overrides.runtime_dir, env, "NIXPROC_RUNTIME_DIR", paths.state_dir / "run");
  paths.log_dir = pick(overrides.log_dir, env, "NIXPROC_LOG_DIR", paths.state_dir / "log");
  paths.tmp_dir = pick(overrides.tmp_dir, env, "NIXPROC_TMP_DIR", paths.state_dir / "tmp");
  paths.cache_dir = pick(overrides.cache_dir, env, "NIXPROC_CACHE_DIR", paths.state_dir / "cache");
  paths.lib_dir = paths.state_dir / "lib";

  paths.force_disable_user_change = user || overrides.force_disable_user_change ||
                                    truthy(env("NIXPROC_FORCE_DISABLE_USER_CHANGE"));
  return paths;
}

}  // namespace nixpm
