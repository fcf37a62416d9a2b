// s6-rc: a source definition directory per service, for s6-rc-compile. A long-running instance <name>
// is a longrun <name>-srv piped into a logger longrun <name>-log (s6-log), their pipeline bundled as
// <name>, so that dependencies name instances; a oneshot is a oneshot <name> whose `up` runs it. The
// bundle `nixpm` holds every instance that starts by default. As nix-processmgmt's s6-rc backend does,
// dependencies are s6-rc's own; readiness goes through notification-fd.

#include <map>

#include "config/managers/adapter_support.hpp"
#include "config/managers/adapters.hpp"
#include "config/managers/shell_steps.hpp"
#include "config/managers/service_directory.hpp"

namespace nixpm::managers {
namespace {

namespace s = support;
namespace sd = service_directory;
using config::InstanceSpec;

constexpr std::string_view kManager = "s6-rc";
constexpr std::string_view kBundle = "nixpm";
constexpr unsigned kScript = 0755;
constexpr unsigned kData = 0644;

const std::vector<PropertySupport>& s6_rc_capabilities() {
  static const std::vector<PropertySupport> table{
      {"foregroundProcess", Support::supported, "a longrun whose run execs the process"},
      {"daemon", Support::emulated,
       "a longrun whose run starts it and stays while its pid file's process lives"},
      {"oneshot", Support::supported, "a oneshot whose up runs it"},
      {"environment", Support::supported, "exported by run (up)"},
      {"path", Support::supported, "PATH exported by run (up)"},
      {"directory", Support::supported, "cd in run (up)"},
      {"umask", Support::supported, "umask in run (up)"},
      {"nice", Support::supported, "nice -n in run (up)"},
      {"rlimits", Support::supported, "ulimit in run (up), as root before the user switch"},
      {"user", Support::supported, "s6-setuidgid (system scope)"},
      {"credentials", Support::emulated, "groupadd/useradd in run (up) when missing"},
      {"dependencies", Support::supported, "the dependencies file"},
      {"initialize", Support::emulated,
       "sh -ec as root in the process that then becomes the program (s6-setuidgid after it)"},
      {"files", Support::emulated, "written by run (up) before every start"},
      {"restart", Support::supported,
       "s6-supervise restarts longruns; ./finish exits 125 after a success or with never"},
      {"restartDelay", Support::emulated, "sleep in ./finish (a fixed delay)"},
      {"maxRestartDelay", Support::lost, "s6-supervise restarts at a fixed pace, without backoff"},
      {"stableAfter", Support::emulated, "part of s6-permafailon's time window in ./finish"},
      {"restartLimit", Support::emulated,
       "s6-permafailon in ./finish: that many failures within restartLimit x (stableAfter + restartDelay)"},
      {"stopSignal", Support::supported, "down-signal"},
      {"stopTimeout", Support::supported, "timeout-kill"},
      {"startTimeout", Support::supported, "timeout-up"},
      {"successExitCodes", Support::emulated, "./finish (a oneshot's up) treats them as a success"},
      {"readiness.pidFile", Support::emulated, "notification-fd, with s6-notifyoncheck running ./data/check"},
      {"readiness.tcp", Support::emulated,
       "notification-fd, with s6-notifyoncheck connecting (bash's /dev/tcp)"},
      {"readiness.command", Support::emulated, "notification-fd, with s6-notifyoncheck running the command"},
      {"readiness.notify", Support::lost,
       "s6 reads readiness from notification-fd, not $NOTIFY_SOCKET; ready once started"},
      {"liveness", Support::lost, "s6-rc has no health probe"},
      {"autostart", Support::supported, "left out of the nixpm bundle"},
  };
  return table;
}

bool is_oneshot(const InstanceSpec& spec) {
  return spec.supervision.type == config::ProcessType::oneshot;
}

// The atomic service that runs the instance: the oneshot itself, or the producer of the pipeline.
std::string main_service(const InstanceSpec& spec) {
  return is_oneshot(spec) ? spec.name : spec.name + "-srv";
}

std::string lines_of(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += name + "\n";
  return text;
}

std::vector<OutputFile> oneshot_files(const InstanceSpec& spec, const GenerateOptions& options) {
  return {{"type", "oneshot\n", kData},
          {"up", sd::execline_sh_command(sd::oneshot_script(spec, options)), kData},
          {"timeout-up", sd::milliseconds(spec.supervision.start_timeout_seconds) + "\n", kData}};
}

std::vector<OutputFile> logger_files(const InstanceSpec& spec, const GenerateOptions& options) {
  return {{"type", "longrun\n", kData},
          {"run", sd::log_run_script(spec, options, sd::Suite::s6_rc), kScript},
          {"notification-fd", "3\n", kData},
          {"consumer-for", spec.name + "-srv\n", kData},
          // On the last consumer, pipeline-name makes s6-rc-compile bundle the pipeline under this name.
          {"pipeline-name", spec.name + "\n", kData}};
}

// Every service (and bundle) name the instances become, refusing two that would be the same.
void check_names(const config::Definitions& definitions) {
  std::map<std::string, std::string> owner;
  auto claim = [&](const std::string& service, const std::string& instance) {
    if (service.starts_with("s6rc-") || service.starts_with("s6-rc-"))
      throw GenerateError("instance '" + instance +
                          "': s6-rc reserves names starting with s6rc- and s6-rc- ('" + service + "')");
    const auto [it, fresh] = owner.emplace(service, instance);
    if (!fresh)
      throw GenerateError("instances '" + it->second + "' and '" + instance +
                          "' both need the s6-rc service name '" + service +
                          "' (a longrun <name> becomes <name>-srv, <name>-log and the bundle <name>)");
  };
  owner.emplace(std::string(kBundle), "");
  for (const auto& spec : definitions.instances) {
    if (spec.name == kBundle)
      throw GenerateError("instance '" + spec.name + "': s6-rc output uses the name '" +
                          std::string(kBundle) + "' for the bundle of every instance");
    claim(spec.name, spec.name);
    if (!is_oneshot(spec)) {
      claim(spec.name + "-srv", spec.name);
      claim(spec.name + "-log", spec.name);
    }
  }
}

class S6RcAdapter final : public ManagerAdapter {
 public:
  std::string_view name() const override { return kManager; }
  std::string_view description() const override {
    return "s6-rc source definitions (longrun + s6-log pipeline, oneshot, bundle nixpm) for s6-rc-compile";
  }
  const std::vector<PropertySupport>& capabilities() const override { return s6_rc_capabilities(); }

  Generated generate(const config::Definitions& definitions, const GenerateOptions& options) const override {
    check_names(definitions);
    Generated generated;
    std::vector<std::string> bundle;
    auto add = [&](const std::string& dir, std::vector<OutputFile> files) {
      for (auto& file : files) {
        file.path = dir / file.path;
        generated.files.push_back(std::move(file));
      }
    };
    for (std::size_t index : s::dependency_order(definitions).start_order) {
      const auto& spec = definitions.instances[index];
      const std::string service = main_service(spec);
      std::vector<OutputFile> files;
      if (is_oneshot(spec)) {
        files = oneshot_files(spec, options);
      } else {
        files = {{"type", "longrun\n", kData}};
        for (auto& file : sd::longrun_files(spec, definitions, options, sd::Suite::s6_rc))
          files.push_back(std::move(file));
        files.push_back(
            {"timeout-up", sd::milliseconds(spec.supervision.start_timeout_seconds) + "\n", kData});
        files.push_back({"producer-for", spec.name + "-log\n", kData});
      }
      const auto dependencies = sd::dependency_names(spec);
      if (!dependencies.empty()) files.push_back({"dependencies", lines_of(dependencies), kData});
      for (auto& file : files) file.path = service / file.path;
      sd::apply_file_overrides(spec, kManager, service, files);
      add("", std::move(files));
      if (!is_oneshot(spec)) add(spec.name + "-log", logger_files(spec, options));
      if (spec.autostart) bundle.push_back(spec.name);
      generated.start_order.push_back(spec.name);
    }
    add(std::string(kBundle), {{"type", "bundle\n", kData}, {"contents", lines_of(bundle), kData}});
    generated.losses = s::losses_for(definitions, capabilities(), options, shell::ulimit_limit_check);
    for (const auto& spec : definitions.instances)
      if (is_oneshot(spec) && spec.supervision.restart != config::RestartPolicy::never)
        generated.losses.push_back({spec.name, "restart", Support::lost,
                                    "s6-rc runs a oneshot's up once per start; a failed one is not retried"});
    return generated;
  }
};

}  // namespace

const ManagerAdapter& s6_rc_adapter() {
  static const S6RcAdapter adapter;
  return adapter;
}

}  // namespace nixpm::managers
