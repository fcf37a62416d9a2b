// runit: one service directory per instance (run, finish, check, control/t, down, log/run with svlogd),
// to be linked into runsvdir's directory (/etc/service, or a user's own). runit has no dependencies and
// no readiness of its own; each run script starts its dependencies with `sv start` and waits, through
// their ./check scripts, until they are ready, so the start order holds. Beyond nix-processmgmt.

#include "config/managers/adapter_support.hpp"
#include "config/managers/adapters.hpp"
#include "config/managers/service_directory.hpp"

namespace nixpm::managers {
namespace {

namespace s = support;
namespace sd = service_directory;

constexpr std::string_view kManager = "runit";

const std::vector<PropertySupport>& runit_capabilities() {
  static const std::vector<PropertySupport> table{
      {"foregroundProcess", Support::supported, "./run execs the process"},
      {"daemon", Support::emulated,
       "./run starts it and stays in the foreground while its pid file's process lives"},
      {"oneshot", Support::emulated, "./run runs it, then stays up; ./check reports it done"},
      {"environment", Support::supported, "exported by ./run"},
      {"path", Support::supported, "PATH exported by ./run"},
      {"directory", Support::supported, "cd in ./run"},
      {"umask", Support::supported, "umask in ./run"},
      {"nice", Support::supported, "chpst -n"},
      {"rlimits", Support::supported, "ulimit in ./run, as root before the user switch"},
      {"user", Support::supported, "chpst -u (system scope)"},
      {"credentials", Support::emulated, "groupadd/useradd in ./run when missing"},
      {"dependencies", Support::emulated,
       "./run starts them with sv -w start and waits for their ./check; runit does not order stops"},
      {"initialize", Support::emulated,
       "sh -ec as root in the process that then becomes the program (chpst -u after it)"},
      {"files", Support::emulated, "written by ./run before every start"},
      {"restart", Support::emulated,
       "runsv restarts by itself; ./finish runs sv down after a success or with never"},
      {"restartDelay", Support::emulated, "sleep in ./finish (a fixed delay)"},
      {"maxRestartDelay", Support::lost, "runsv restarts at a fixed pace, without backoff"},
      {"stableAfter", Support::lost, "runsv has no backoff to reset"},
      {"restartLimit", Support::lost, "runsv never gives up on a failing service"},
      {"stopSignal", Support::emulated, "control/t sends it instead of TERM"},
      {"stopTimeout", Support::lost,
       "runsv never sends SIGKILL; use sv force-stop (sv -w SECONDS force-stop)"},
      {"startTimeout", Support::emulated, "the dependents' sv -w timeout"},
      {"successExitCodes", Support::emulated, "./finish treats them as a success"},
      {"readiness.pidFile", Support::emulated, "./check tests the pid file"},
      {"readiness.tcp", Support::emulated, "./check connects (bash's /dev/tcp)"},
      {"readiness.command", Support::emulated, "./check runs the command"},
      {"readiness.notify", Support::lost, "runit has no notification socket; ready once started"},
      {"liveness", Support::lost, "runit has no health probe"},
      {"autostart", Support::supported, "a down file"},
  };
  return table;
}

class RunitAdapter final : public ManagerAdapter {
 public:
  std::string_view name() const override { return kManager; }
  std::string_view description() const override {
    return "runit service directories (run, finish, check, log/run with svlogd) for runsvdir";
  }
  const std::vector<PropertySupport>& capabilities() const override { return runit_capabilities(); }

  Generated generate(const config::Definitions& definitions, const GenerateOptions& options) const override {
    auto generated = sd::supervision_tree(definitions, options, sd::Suite::runit, kManager, capabilities());
    // `always` is what runsv does by itself: nothing emulated then.
    std::erase_if(generated.losses, [&](const Loss& loss) {
      const auto* spec = definitions.find(loss.instance);
      return loss.property == "restart" && spec->supervision.restart == config::RestartPolicy::always &&
             spec->supervision.type == config::ProcessType::process;
    });
    return generated;
  }
};

}  // namespace

const ManagerAdapter& runit_adapter() {
  static const RunitAdapter adapter;
  return adapter;
}

}  // namespace nixpm::managers
