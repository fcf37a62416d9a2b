#pragma once
// Native process managers: one adapter per manager turns resolved definitions into that manager's own
// configuration files. Adapters are pure (definitions in, file contents out); they never touch the
// filesystem or run a tool, so every one of them is golden-tested byte for byte.
//
// Each adapter also declares, property by property, what its manager can express. The loss report of a
// `generate` run is what *this* definition uses that the manager cannot express (or can only emulate);
// `--strict` turns any loss into an error. Nothing is dropped silently.

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"

namespace nixpm::managers {

// System-wide (as root, files under /etc, ...) or per user (~/.config/systemd/user, LaunchAgents, ...).
enum class Scope { system, user };

struct GenerateOptions {
  Scope scope = Scope::system;
  // Where generated configuration points runtime files (pid files, logs) that the definitions do not
  // place themselves: <state_dir>/run/<name>.pid, <state_dir>/log/<name>.log, ...
  std::filesystem::path state_dir = "/var";
  // ${runtimeDir}, ${logDir}, ${tmpDir}, ${cacheDir} and <state>/lib as the definitions were loaded with;
  // empty: <state_dir>/run, /log, /tmp, /lib and /cache (see adapter_support.hpp).
  std::filesystem::path runtime_dir;
  std::filesystem::path log_dir;
  std::filesystem::path tmp_dir;
  std::filesystem::path lib_dir;
  std::filesystem::path cache_dir;
};

// Definitions a manager cannot take at all (as opposed to a loss): an `overrides.<manager>` value of the
// wrong shape, or instance names that collide once made valid for the manager. The message names the
// instance and says what is wrong.
class GenerateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How well a manager carries one property.
enum class Support {
  supported,  // expressed natively
  emulated,   // carried by generated shell (a wrapper script, start-stop-daemon options, ...)
  lost,       // cannot be expressed; reported when a definition uses it
};

std::string_view to_string(Support support);

// One row of an adapter's capability table. `property` uses the definition key names
// (dependencies, environment, user, directory, umask, nice, restart, pidFile, ...).
struct PropertySupport {
  std::string_view property;
  Support support;
  std::string_view note;  // how it is emulated, or why it is lost; shown in reports and docs
};

// One file to write, relative to the output directory.
struct OutputFile {
  std::filesystem::path path;
  std::string content;
  unsigned mode = 0644;  // 0755 for scripts
  // Not empty: a symbolic link with this target (relative to the link's directory) instead of a file;
  // `content` and `mode` are then unused. sysvinit's rc<N>.d/S<NN>name links are such.
  std::filesystem::path link_target = {};
  bool operator==(const OutputFile&) const = default;
};

// What one definition loses on one manager.
struct Loss {
  std::string instance;
  std::string property;
  Support support;   // emulated or lost
  std::string note;
  bool operator==(const Loss&) const = default;
};

struct Generated {
  std::vector<OutputFile> files;
  std::vector<Loss> losses;
  // Manager-side names (unit, program, script or service directory names) in dependency order.
  std::vector<std::string> start_order;
};

class ManagerAdapter {
 public:
  virtual ~ManagerAdapter() = default;
  virtual std::string_view name() const = 0;         // as given to --manager
  virtual std::string_view description() const = 0;  // one line, for `generate --help` and docs
  virtual const std::vector<PropertySupport>& capabilities() const = 0;
  // Throws GenerateError for definitions the manager cannot take at all (see there).
  virtual Generated generate(const config::Definitions& definitions,
                             const GenerateOptions& options) const = 0;
};

// The registry: every adapter, in the order docs and --help list them.
const std::vector<const ManagerAdapter*>& all_managers();
// nullptr for an unknown name; callers print the known names (see known_manager_names()).
const ManagerAdapter* find_manager(std::string_view name);
std::string known_manager_names();  // "systemd, supervisord, ..." for error messages

}  // namespace nixpm::managers
