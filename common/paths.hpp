#pragma once
// Where nixpm keeps its files in user and system mode (SPEC "Modes and file locations"), and the
// overrides that both binaries accept. Resolution is pure: the environment is passed in, so the
// rules are unit-tested without touching the real one.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace nixpm {

enum class Mode { user, system };

// Command-line overrides; an unset field falls back to the environment, then to the mode's default.
struct PathOverrides {
  std::optional<Mode> mode;
  std::optional<std::filesystem::path> config_file;
  std::optional<std::filesystem::path> socket;
  std::optional<std::filesystem::path> state_dir;
  std::optional<std::filesystem::path> runtime_dir;
  std::optional<std::filesystem::path> log_dir;
  std::optional<std::filesystem::path> tmp_dir;
  std::optional<std::filesystem::path> cache_dir;
  bool force_disable_user_change = false;
};

struct Paths {
  Mode mode = Mode::user;
  std::filesystem::path config_file;
  std::filesystem::path socket;
  std::filesystem::path state_dir;
  std::filesystem::path runtime_dir;
  std::filesystem::path log_dir;
  std::filesystem::path tmp_dir;
  std::filesystem::path lib_dir;
  std::filesystem::path cache_dir;
  // In user mode `user` and `credentials` are ignored: this is then always true.
  bool force_disable_user_change = false;
};

using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// The process environment, for production use.
EnvLookup process_environment();

// The mode when none is asked for: system as root, user otherwise.
Mode default_mode(uid_t uid);

Paths resolve_paths(const PathOverrides& overrides, const EnvLookup& env, uid_t uid);

}  // namespace nixpm
