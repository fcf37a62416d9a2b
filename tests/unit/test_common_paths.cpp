// SPEC "Modes and file locations": defaults per mode, XDG variables, NIXPROC_* and overrides.

#include <catch2/catch.hpp>

#include <map>

#include "common/paths.hpp"

using nixpm::Mode;
using nixpm::PathOverrides;
using nixpm::resolve_paths;

namespace {
nixpm::EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST_CASE("user mode follows the XDG directories", "[paths]") {
  auto paths = resolve_paths({}, env_of({{"HOME", "/home/ann"},
                                         {"XDG_RUNTIME_DIR", "/run/user/1000"},
                                         {"XDG_CONFIG_HOME", "/home/ann/cfg"},
                                         {"XDG_STATE_HOME", "/home/ann/st"}}),
                             1000);
  CHECK(paths.mode == Mode::user);
  CHECK(paths.config_file == "/home/ann/cfg/nixpm/processes.yaml");
  CHECK(paths.socket == "/run/user/1000/nixpm/control.sock");
  CHECK(paths.state_dir == "/home/ann/st/nixpm");
  CHECK(paths.runtime_dir == "/home/ann/st/nixpm/run");
  CHECK(paths.log_dir == "/home/ann/st/nixpm/log");
  CHECK(paths.tmp_dir == "/home/ann/st/nixpm/tmp");
  CHECK(paths.lib_dir == "/home/ann/st/nixpm/lib");
  CHECK(paths.cache_dir == "/home/ann/st/nixpm/cache");
  CHECK(paths.force_disable_user_change);
}

TEST_CASE("user mode without XDG variables falls back under HOME and TMPDIR", "[paths]") {
  auto paths = resolve_paths({}, env_of({{"HOME", "/home/bob"}, {"TMPDIR", "/var/tmp"}}), 1001);
  CHECK(paths.config_file == "/home/bob/.config/nixpm/processes.yaml");
  CHECK(paths.socket == "/var/tmp/nixpm-1001/control.sock");
  CHECK(paths.state_dir == "/home/bob/.local/state/nixpm");
  auto no_tmpdir = resolve_paths({}, env_of({{"HOME", "/home/bob"}}), 1001);
  CHECK(no_tmpdir.socket == "/tmp/nixpm-1001/control.sock");
}

TEST_CASE("root defaults to system mode", "[paths]") {
  auto paths = resolve_paths({}, env_of({{"HOME", "/root"}, {"XDG_RUNTIME_DIR", "/run/user/0"}}), 0);
  CHECK(paths.mode == Mode::system);
  CHECK(paths.config_file == "/etc/nixpm/processes.yaml");
  CHECK(paths.socket == "/run/nixpm/control.sock");
  CHECK(paths.state_dir == "/var");
  CHECK(paths.runtime_dir == "/var/run");
  CHECK(paths.log_dir == "/var/log");
  CHECK_FALSE(paths.force_disable_user_change);
}

TEST_CASE("root may ask for user mode", "[paths]") {
  PathOverrides overrides;
  overrides.mode = Mode::user;
  auto paths = resolve_paths(overrides, env_of({{"HOME", "/root"}}), 0);
  CHECK(paths.state_dir == "/root/.local/state/nixpm");
  CHECK(paths.socket == "/tmp/nixpm-0/control.sock");
}

TEST_CASE("flags win over NIXPROC_* and NIXPM_SOCKET, which win over defaults", "[paths]") {
  auto env = env_of({{"HOME", "/h"},
                     {"NIXPM_SOCKET", "/env/sock"},
                     {"NIXPROC_STATE_DIR", "/env/state"},
                     {"NIXPROC_LOG_DIR", "/env/log"},
                     {"NIXPROC_FORCE_DISABLE_USER_CHANGE", "1"}});
  auto from_env = resolve_paths({}, env, 0);
  CHECK(from_env.socket == "/env/sock");
  CHECK(from_env.state_dir == "/env/state");
  CHECK(from_env.runtime_dir == "/env/state/run");
  CHECK(from_env.log_dir == "/env/log");
  CHECK(from_env.force_disable_user_change);

  PathOverrides overrides;
  overrides.socket = "/flag/sock";
  overrides.state_dir = "/flag/state";
  overrides.log_dir = "/flag/log";
  overrides.config_file = "/flag/p.yaml";
  auto from_flags = resolve_paths(overrides, env, 0);
  CHECK(from_flags.socket == "/flag/sock");
  CHECK(from_flags.state_dir == "/flag/state");
  CHECK(from_flags.log_dir == "/flag/log");
  CHECK(from_flags.config_file == "/flag/p.yaml");
}

TEST_CASE("empty variables count as unset", "[paths]") {
  auto paths = resolve_paths({}, env_of({{"HOME", "/h"}, {"XDG_RUNTIME_DIR", ""}, {"XDG_STATE_HOME", ""}}), 5);
  CHECK(paths.socket == "/tmp/nixpm-5/control.sock");
  CHECK(paths.state_dir == "/h/.local/state/nixpm");
}
