// The command line of an instance, the way createManagedProcess derives it, plus what depends on
// the kind of process: the pid file, readiness, and checks that the executables exist.
#include <charconv>
#include <cstdlib>
#include <set>
#include <string_view>

#include <sys/stat.h>
#include <unistd.h>

#include "config/expansion.hpp"
#include "config/scope.hpp"

namespace nixpm::config {
namespace {

bool is_executable_file(const std::string& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0 && S_ISREG(status.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// An absolute command must exist here and be executable; a bare name is looked up in `path` and then
// PATH, and only warned about, since definitions are often checked on another machine than the one
// they run on. A relative path with a slash depends on `directory` and is left alone.
void check_executable(const std::string& command, const SourcePosition& where, const InstanceSpec& spec,
                      YamlReader& reporter) {
  const std::string prefix = "in instance '" + spec.name + "': ";
  if (command.starts_with('/')) {
    struct stat status {};
    if (::stat(command.c_str(), &status) != 0)
      reporter.error(where, prefix + "executable '" + command + "' does not exist");
    else if (!S_ISREG(status.st_mode) || ::access(command.c_str(), X_OK) != 0)
      reporter.error(where, prefix + "'" + command + "' is not an executable file");
    return;
  }
  if (command.find('/') != std::string::npos) return;
  std::vector<std::string> directories(spec.path);
  const char* path = std::getenv("PATH");
  for (std::string_view rest = path != nullptr ? path : ""; !rest.empty();) {
    const std::size_t colon = rest.find(':');
    directories.emplace_back(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
  }
  for (const auto& directory : directories)
    if (!directory.empty() && is_executable_file(directory + "/" + command)) return;
  reporter.warning(where, prefix + "command '" + command + "' is not found in 'path' or PATH on this machine");
}

std::optional<std::vector<std::string>> arguments(InstanceScope& scope, const std::optional<std::vector<Text>>& full,
                                                  const std::optional<std::vector<Text>>& args,
                                                  const std::optional<std::vector<Text>>& extra) {
  // createManagedProcess: xArgs defaults to args ++ xExtraArgs.
  if (full) return scope.expand_all(*full);
  std::vector<std::string> result;
  if (args) {
    auto expanded = scope.expand_all(*args);
    if (!expanded) return std::nullopt;
    result = std::move(*expanded);
  }
  if (extra) {
    auto expanded = scope.expand_all(*extra);
    if (!expanded) return std::nullopt;
    result.insert(result.end(), expanded->begin(), expanded->end());
  }
  return result;
}

void fill_readiness(InstanceScope& scope, const RawProperties& properties, InstanceSpec& spec) {
  ReadinessCheck& readiness = spec.supervision.readiness;
  if (!properties.readiness) {
    readiness.kind = spec.kind == ProcessKind::daemon ? ReadinessKind::pid_file : ReadinessKind::started;
    return;
  }
  const RawReadiness& raw = *properties.readiness;
  readiness.kind = raw.kind;
  if (raw.kind == ReadinessKind::tcp) {
    if (raw.host)
      if (auto host = scope.expand(*raw.host)) readiness.host = std::move(*host);
    if (auto port = scope.expand(*raw.port)) {
      int number = 0;
      auto [end, ec] = std::from_chars(port->data(), port->data() + port->size(), number);
      if (ec == std::errc() && end == port->data() + port->size() && number >= 1 && number <= 65535)
        readiness.port = number;
      else
        scope.error(raw.port->position, "the readiness port must be a number from 1 to 65535, not '" + *port + "'");
    }
  } else if (raw.kind == ReadinessKind::command) {
    if (auto command = scope.expand_all(raw.command)) readiness.command = std::move(*command);
  } else if (raw.kind == ReadinessKind::pid_file && spec.pid_file.empty()) {
    scope.error(raw.position, "readiness 'pidFile' needs a 'pidFile' (only daemons have a default one)");
  }
}

}  // namespace

void fill_command(InstanceScope& scope, const RawProperties& properties, const LoadOptions& options,
                  InstanceSpec& spec, YamlReader& reporter) {
  const RawProperties& p = properties;
  if (!p.keys.contains("process") && !p.keys.contains("foregroundProcess") && !p.keys.contains("daemon")) {
    reporter.error(scope.declaration().name.position,
                   "instance '" + spec.name + "' has none of 'process', 'foregroundProcess' and 'daemon'");
  }
  // createManagedProcess: foregroundProcess and daemon both default to process.
  const std::optional<Text>& foreground = p.foreground_process ? p.foreground_process : p.process;
  const std::optional<Text>& daemon = p.daemon ? p.daemon : p.process;
  auto command = [&](const std::optional<Text>& text, const char* key) {
    auto value = scope.expand(*text);
    if (value && value->empty()) scope.error(text->position, std::string("'") + key + "' is empty");
    return value.value_or("");
  };
  if (foreground) {
    spec.foreground_executable = command(foreground, p.foreground_process ? "foregroundProcess" : "process");
    if (auto args = arguments(scope, p.foreground_process_args, p.args, p.foreground_process_extra_args))
      spec.foreground_arguments = std::move(*args);
  }
  if (daemon) {
    // The same text as the foreground command needs no second "is empty" report.
    spec.daemon_executable = p.daemon ? command(daemon, "daemon") : spec.foreground_executable;
    if (auto args = arguments(scope, p.daemon_args, p.args, p.daemon_extra_args))
      spec.daemon_arguments = std::move(*args);
  }
  // Foreground is preferred: nixpmd then sees the process itself, not a daemon it has to track.
  spec.kind = foreground || !daemon ? ProcessKind::foreground : ProcessKind::daemon;
  spec.executable = spec.kind == ProcessKind::foreground ? spec.foreground_executable : spec.daemon_executable;
  spec.arguments = spec.kind == ProcessKind::foreground ? spec.foreground_arguments : spec.daemon_arguments;

  if (p.pid_file) {
    if (auto pid_file = scope.expand(*p.pid_file); pid_file && !pid_file->empty())
      spec.pid_file = under_state_dir(*pid_file, scope.dirs());
  } else if (spec.kind == ProcessKind::daemon) {
    spec.pid_file = scope.dirs().runtime_dir + "/" + spec.name + ".pid";
  }
  if (p.type && p.type->value == ProcessType::oneshot && spec.kind == ProcessKind::daemon)
    scope.error(p.type->position, "a oneshot needs 'process' or 'foregroundProcess' (it runs in the foreground)");
  fill_readiness(scope, p, spec);

  if (!options.check_executables) return;
  std::set<std::string> checked;
  if (foreground && !spec.foreground_executable.empty() && checked.insert(spec.foreground_executable).second)
    check_executable(spec.foreground_executable, foreground->position, spec, reporter);
  if (daemon && !spec.daemon_executable.empty() && checked.insert(spec.daemon_executable).second)
    check_executable(spec.daemon_executable, daemon->position, spec, reporter);
}

}  // namespace nixpm::config
