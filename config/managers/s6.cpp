// s6: one service directory per instance for s6-svscan (run, finish, data/check, notification-fd,
// down-signal, timeout-kill, down, log/run with s6-log). s6 has no dependencies between services; each
// run script brings its dependencies up with s6-svc and waits with s6-svwait until they are up (and
// ready, where they signal it on notification-fd), so the start order holds. Beyond nix-processmgmt,
// which only drives s6 through s6-rc.

#include "config/managers/adapter_support.hpp"
#include "config/managers/adapters.hpp"
#include "config/managers/service_directory.hpp"

namespace nixpm::managers {
namespace {

namespace s = support;
namespace sd = service_directory;

constexpr std::string_view kManager = "s6";

const std::vector<PropertySupport>& s6_capabilities() {
  static const std::vector<PropertySupport> table{
      {"foregroundProcess", Support::supported, "./run execs the process"},
      {"daemon", Support::emulated,
       "./run starts it and stays in the foreground while its pid file's process lives"},
      {"oneshot", Support::emulated, "./run runs it, signals readiness when it succeeded, then stays up"},
      {"environment", Support::supported, "exported by ./run"},
      {"path", Support::supported, "PATH exported by ./run"},
      {"directory", Support::supported, "cd in ./run"},
      {"umask", Support::supported, "umask in ./run"},
      {"nice", Support::supported, "nice -n in ./run"},
      {"rlimits", Support::supported, "ulimit in ./run, as root before the user switch"},
      {"user", Support::supported, "s6-setuidgid (system scope)"},
      {"credentials", Support::emulated, "groupadd/useradd in ./run when missing"},
      {"dependencies", Support::emulated,
       "./run starts them with s6-svc -u and waits with s6-svwait; s6 does not order stops"},
      {"initialize", Support::emulated,
       "sh -ec as root in the process that then becomes the program (s6-setuidgid after it)"},
      {"files", Support::emulated, "written by ./run before every start"},
      {"restart", Support::supported,
       "s6-supervise restarts; ./finish exits 125 after a success or with never"},
      {"restartDelay", Support::emulated, "sleep in ./finish (a fixed delay)"},
      {"maxRestartDelay", Support::lost, "s6-supervise restarts at a fixed pace, without backoff"},
      {"stableAfter", Support::emulated, "part of s6-permafailon's time window in ./finish"},
      {"restartLimit", Support::emulated,
       "s6-permafailon in ./finish: that many failures within restartLimit x (stableAfter + restartDelay)"},
      {"stopSignal", Support::supported, "down-signal"},
      {"stopTimeout", Support::supported, "timeout-kill"},
      {"startTimeout", Support::emulated, "the dependents' s6-svwait -t and s6-notifyoncheck -T"},
      {"successExitCodes", Support::emulated, "./finish treats them as a success"},
      {"readiness.pidFile", Support::emulated, "notification-fd, with s6-notifyoncheck running ./data/check"},
      {"readiness.tcp", Support::emulated,
       "notification-fd, with s6-notifyoncheck connecting (bash's /dev/tcp)"},
      {"readiness.command", Support::emulated, "notification-fd, with s6-notifyoncheck running the command"},
      {"readiness.notify", Support::lost,
       "s6 reads readiness from notification-fd, not $NOTIFY_SOCKET; ready once started"},
      {"liveness", Support::lost, "s6 has no health probe"},
      {"autostart", Support::supported, "a down file"},
  };
  return table;
}

class S6Adapter final : public ManagerAdapter {
 public:
  std::string_view name() const override { return kManager; }
  std::string_view description() const override {
    return "s6 service directories (run, finish, notification-fd, log/run with s6-log) for s6-svscan";
  }
  const std::vector<PropertySupport>& capabilities() const override { return s6_capabilities(); }

  Generated generate(const config::Definitions& definitions, const GenerateOptions& options) const override {
    return sd::supervision_tree(definitions, options, sd::Suite::s6, kManager, capabilities());
  }
};

}  // namespace

const ManagerAdapter& s6_adapter() {
  static const S6Adapter adapter;
  return adapter;
}

}  // namespace nixpm::managers
