#include "config/managers/shell_steps.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>

#include "config/managers/adapter_support.hpp"

namespace nixpm::managers::shell {
namespace {

namespace s = support;

bool shell_can_assign(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word) return false;
  }
  return true;
}

std::vector<std::string> with_option(std::vector<std::string> argv, std::string_view option,
                                     const std::string& value) {
  if (!value.empty()) {
    argv.emplace_back(option);
    argv.push_back(value);
  }
  return argv;
}

std::string useradd_line(const config::UserCredential& user, std::string_view own_group) {
  std::vector<std::string> argv{"useradd", "--system"};
  if (user.uid) argv = with_option(argv, "--uid", std::to_string(*user.uid));
  argv = with_option(argv, "--gid", user.group.empty() ? std::string(own_group) : user.group);
  argv = with_option(argv, "--comment", user.description);
  argv = with_option(argv, "--home-dir", user.home_dir);
  argv.emplace_back(user.create_home_dir ? "--create-home" : "--no-create-home");
  argv = with_option(argv, "--shell", user.shell);
  argv.push_back(user.name);
  return s::shell_command(argv);
}

}  // namespace

Environment environment(const config::InstanceSpec& spec) {
  Environment result;
  for (const auto& [name, value] : spec.environment) {
    if (shell_can_assign(name)) {
      result.exports += "export " + name + "=" + s::shell_quote(value) + "\n";
    } else {
      result.env_words.push_back(name + "=" + value);
    }
  }
  if (!spec.path.empty()) {
    // nixpmd's fallback when it has no PATH itself; an empty one would add the working directory.
    result.exports += "export PATH=" + s::shell_quote(s::join(spec.path, ":") + ":") +
                      "\"${PATH:-/usr/local/bin:/usr/bin:/bin}\"\n";
  }
  return result;
}

std::string create_credentials(const config::InstanceSpec& spec) {
  std::string lines;
  for (const auto& group : spec.credentials.groups) {
    std::vector<std::string> argv{"groupadd", "--system"};
    if (group.gid) argv = with_option(argv, "--gid", std::to_string(*group.gid));
    argv.push_back(group.name);
    lines += "getent group " + s::shell_quote(group.name) + " >/dev/null 2>&1 || " + s::shell_command(argv) +
             " || exit 1\n";
  }
  for (const auto& user : spec.credentials.users) {
    const std::string name = s::shell_quote(user.name);
    lines += "if ! id -u " + name + " >/dev/null 2>&1; then\n";
    if (user.group.empty()) {
      // useradd refuses to make a group named like the user when one exists already: join it instead.
      lines += "  if getent group " + name + " >/dev/null 2>&1; then " + useradd_line(user, user.name) +
               " || exit 1; else " + useradd_line(user, "") + " || exit 1; fi\n";
    } else {
      lines += "  " + useradd_line(user, "") + " || exit 1\n";
    }
    lines += "fi\n";
  }
  return lines;
}

std::string make_state_directories(const GenerateOptions& options) {
  // GenerateOptions knows no tmp, lib and cache directories of its own: they are nixpmd's defaults.
  const std::vector<std::string> dirs{
      options.state_dir.string(),           s::runtime_dir(options).string(),
      s::log_dir(options).string(),         (options.state_dir / "tmp").string(),
      (options.state_dir / "lib").string(), (options.state_dir / "cache").string()};
  return "mkdir -p " + s::shell_command(dirs) + "\n";
}

std::vector<std::string> after_setup(std::string_view setup, std::vector<std::string> argv) {
  if (setup.empty()) return argv;
  std::string script(setup);
  if (!script.ends_with('\n')) script += '\n';
  script += "exec \"$0\" \"$@\"";
  std::vector<std::string> wrapped{"/bin/sh", "-ec", script};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

std::vector<std::string> program_argv(const config::InstanceSpec& spec) {
  const bool daemon = spec.kind == config::ProcessKind::daemon;
  std::vector<std::string> argv{daemon ? spec.daemon_executable : spec.foreground_executable};
  const auto& arguments = daemon ? spec.daemon_arguments : spec.foreground_arguments;
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return after_setup(spec.initialize, std::move(argv));
}

std::string exit_code_pattern(const std::vector<int>& codes) {
  std::string pattern;
  for (int code : codes) {
    if (!pattern.empty()) pattern += '|';
    pattern += std::to_string(code);
  }
  return pattern.empty() ? "0" : pattern;
}

std::string daemon_proxy(const DaemonProxy& proxy) {
  const std::string pid_file = s::shell_quote(proxy.pid_file);
  const std::string stop = s::signal_name(proxy.stop_signal);
  // Polled every tenth of a second where sleep takes fractions, else every second (fewer rounds then).
  const long rounds = std::lround(std::ceil(std::max(proxy.start_timeout_seconds, 0.1) * 10));
  std::string ready =
      "pid=$(cat " + pid_file + " 2>/dev/null) && [ -n \"$pid\" ] && kill -0 \"$pid\" 2>/dev/null";
  if (!proxy.ready_check.empty()) ready += " && " + proxy.ready_check;

  std::string script;
  script += "# A forking daemon: start it, then stay in the foreground for as long as the process its pid\n";
  script += "# file names lives, passing signals on to it.\n";
  script += "rm -f " + pid_file + "\n";
  script += proxy.start_command + " || exit $?\n";
  script += "rounds=0\n";
  script += "until " + ready + "; do\n";
  script += "  if [ \"$rounds\" -ge " + std::to_string(rounds) + " ]; then\n";
  script += "    echo \"nixpm: the daemon is not ready after " +
            s::format_seconds(proxy.start_timeout_seconds) + " s; its pid file:\" " + pid_file + " >&2\n";
  script += "    exit 1\n";
  script += "  fi\n";
  script += "  sleep 0.1 2>/dev/null || { sleep 1; rounds=$((rounds + 9)); }\n";
  script += "  rounds=$((rounds + 1))\n";
  script += "done\n";
  if (!proxy.on_ready.empty()) script += proxy.on_ready + "\n";
  script += "stopping=\n";
  script += "trap 'stopping=1; kill -s " + stop + " \"$pid\"' TERM INT" +
            (stop == "TERM" || stop == "INT" ? "" : " " + stop) + "\n";
  for (const char* signal : {"HUP", "QUIT", "USR1", "USR2"})
    if (stop != signal) script += "trap 'kill -s " + std::string(signal) + " \"$pid\"' " + signal + "\n";
  // `wait` (unlike a plain sleep) lets the traps run as soon as a signal arrives.
  script += "while kill -0 \"$pid\" 2>/dev/null; do sleep 1 & wait $!; done\n";
  script += "kill $! 2>/dev/null\n";
  script += "[ -n \"$stopping\" ] && exit 0\n";
  script += "echo \"nixpm: the daemon (pid $pid) exited\" >&2\n";
  script += "exit 1\n";
  return script;
}

std::string translating_parent(std::string_view command, int stop_signal,
                               const std::vector<int>& success_codes) {
  std::string script;
  script += std::string(command) + " &\n";
  script += "child=$!\n";
  script += "trap 'kill -s " + s::signal_name(stop_signal) + " \"$child\"' TERM\n";
  // wait returns early when a trapped signal arrives; wait again until the child is gone.
  script += "while :; do wait \"$child\"; status=$?; kill -0 \"$child\" 2>/dev/null || break; done\n";
  script += "case $status in " + exit_code_pattern(success_codes) + ") exit 0 ;; esac\n";
  script += "exit \"$status\"\n";
  return script;
}

namespace {

struct UlimitFlag {
  std::string_view limit;
  std::string_view flag;
  std::uint64_t unit;  // bytes per unit of the flag's value (1 for counts and seconds)
};

// sh's ulimit takes -c and -f in 512-byte blocks and the other sizes in KiB.
constexpr UlimitFlag kUlimitFlags[] = {
    {"as", "-v", 1024},     {"core", "-c", 512}, {"cpu", "-t", 1},   {"data", "-d", 1024}, {"fsize", "-f", 512},
    {"memlock", "-l", 1024}, {"nofile", "-n", 1}, {"rss", "-m", 1024}, {"stack", "-s", 1024},
};

std::string ulimit_value(std::uint64_t value, std::uint64_t unit) {
  return value == config::kUnlimited ? "unlimited" : std::to_string(value / unit);
}

}  // namespace

const std::vector<std::string_view>& ulimit_limits() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> all;
    for (const auto& flag : kUlimitFlags) all.push_back(flag.limit);
    return all;
  }();
  return names;
}

std::string resource_limits(const config::InstanceSpec& spec, std::string_view indent,
                            std::string_view or_else) {
  std::string lines;
  for (const auto& limit : spec.rlimits) {
    const auto* flag = std::find_if(std::begin(kUlimitFlags), std::end(kUlimitFlags),
                                    [&](const UlimitFlag& entry) { return entry.limit == limit.name; });
    if (flag == std::end(kUlimitFlags)) continue;
    const std::string prefix = std::string(indent) + "\tulimit ";
    const std::string suffix = std::string(or_else) + "\n";
    const std::string option = std::string(flag->flag) + " ";
    if (limit.soft && limit.hard) {
      // Both to the hard value first, then the soft one down: right whether the hard limit rises or falls.
      lines += prefix + option + ulimit_value(*limit.hard, flag->unit) + suffix;
      if (*limit.soft != *limit.hard)
        lines += prefix + "-S " + option + ulimit_value(*limit.soft, flag->unit) + suffix;
    } else if (limit.soft) {
      lines += prefix + "-S " + option + ulimit_value(*limit.soft, flag->unit) + suffix;
    } else if (limit.hard) {
      lines += prefix + "-H " + option + ulimit_value(*limit.hard, flag->unit) + suffix;
    }
  }
  if (lines.empty()) return lines;
  // POSIX defines only `ulimit -f`, but every /bin/sh in use has these flags: hence the directive, which
  // covers the whole { } group.
  const std::string at(indent);
  return at + "# rlimits, set in this process so that the program inherits them.\n" + at +
         "# shellcheck disable=SC3045\n" + at + "{\n" + lines + at + "}\n";
}

std::optional<Loss> ulimit_limit_check(const config::InstanceSpec& spec) {
  const auto names = support::uncarried_limits(spec, ulimit_limits());
  if (names.empty()) return std::nullopt;
  return Loss{spec.name, "rlimits", Support::lost,
              "not set: " + names + " (/bin/sh's ulimit has no portable flag for it)"};
}

std::string one_line(std::string_view text) {
  std::string line;
  for (char c : text) line += (c == '\n' || c == '\r') ? ' ' : c;
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace nixpm::managers::shell
