#include "client/commands.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>

#include <CLI/CLI.hpp>

#include <nixpm/version.hpp>

#include "client/check_command.hpp"
#include "client/deploy_command.hpp"
#include "client/generate_command.hpp"
#include "client/log_reader.hpp"
#include "client/render.hpp"
#include "client/render_more.hpp"

namespace nixpm::client {
using protocol::Json;

namespace {

constexpr auto kReplyGrace = std::chrono::seconds(5);

// ---- options -------------------------------------------------------------------------------------

void add_path_option(CLI::App& app, const std::string& flags, std::optional<std::filesystem::path>& target,
                     const std::string& help, const std::string& type_name = "DIR") {
  app.add_option_function<std::string>(
         flags, [&target](const std::string& value) { target = std::filesystem::path(value); }, help)
      ->type_name(type_name);
}

void add_global_options(CLI::App& app, GlobalOptions& globals) {
  PathOverrides& o = globals.overrides;
  add_path_option(
      app, "-c,--config", o.config_file,
      "Definitions file for check and generate (the other verbs accept it for symmetry with nixpmd)", "FILE");
  add_path_option(app, "--socket", o.socket, "Control socket of nixpmd (env NIXPM_SOCKET)", "PATH");
  auto* user = app.add_flag_callback("--user", [&o] { o.mode = Mode::user; },
                                     "Talk to the user-mode daemon (the default when not root)");
  auto* system = app.add_flag_callback("--system", [&o] { o.mode = Mode::system; },
                                       "Talk to the system-mode daemon (the default as root)");
  user->excludes(system);
  system->excludes(user);
  app.add_flag("--json", globals.json, "Print the daemon's reply as JSON");
  app.add_option("--timeout", globals.timeout_seconds, "Seconds to wait for the daemon and for start/stop")
      ->type_name("SECONDS")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            double seconds = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
            if (ec != std::errc() || end != text.data() + text.size() || !(seconds >= 0.001 && seconds <= 365.0 * 86400))
              return "expected a number of seconds between 0.001 and one year, not '" + text + "'";
            return {};
          },
          ""))
      ->capture_default_str();
  add_path_option(app, "--state-dir", o.state_dir, "State directory (accepted for symmetry with nixpmd)");
  add_path_option(app, "--runtime-dir", o.runtime_dir, "Runtime directory (accepted for symmetry)");
  add_path_option(app, "--log-dir", o.log_dir, "Log directory (accepted for symmetry)");
  add_path_option(app, "--tmp-dir", o.tmp_dir, "Temporary directory (accepted for symmetry)");
  add_path_option(app, "--cache-dir", o.cache_dir, "Cache directory (accepted for symmetry)");
  app.add_flag("--force-disable-user-change", o.force_disable_user_change,
               "Never switch users (accepted for symmetry with nixpmd)");
}

// ---- per-verb pieces -----------------------------------------------------------------------------

void configure_nothing(CLI::App&, Invocation&) {}

void configure_optional_names(CLI::App& sub, Invocation& inv) {
  sub.add_option("NAME", inv.names, "Instances to show (default: all)")->type_name("");
}

void configure_action(CLI::App& sub, Invocation& inv) {
  sub.add_option("NAME", inv.names, "Instances to act on")->type_name("")->required();
  sub.add_flag_callback("--no-wait", [&inv] { inv.wait = false; },
                        "Return as soon as the daemon has accepted the request");
}

void configure_check(CLI::App& sub, Invocation& inv) {
  sub.add_flag_callback("--no-executable-check", [&inv] { inv.check_executables = false; },
                        "Do not check that the commands exist on this machine (definitions for another one)");
}

void configure_generate(CLI::App& sub, Invocation& inv) {
  sub.add_option("-m,--manager", inv.manager, "The process manager to generate for (see --list)")
      ->type_name("NAME");
  add_path_option(sub, "-o,--output", inv.output_dir,
                  "Directory to write the files to (created when missing)");
  sub.add_flag("--strict", inv.strict, "Fail (exit 1, write nothing) when the definitions lose anything");
  auto* list = sub.add_flag("--list", inv.list_managers, "List the managers with a description");
  auto* table =
      sub.add_flag("--capabilities", inv.capabilities,
                   "Print the property x manager table as Markdown (one manager's notes with --manager)");
  list->excludes(table);
}

void configure_deploy(CLI::App& sub, Invocation& inv) {
  sub.add_option("-m,--manager", inv.manager, "The process manager to deploy onto (see generate --list)")
      ->type_name("NAME");
  add_path_option(sub, "--root", inv.root,
                  "Install the manager's files here instead of its usual place (a scan dir, an init.d root, ...)");
  sub.add_flag("--strict", inv.strict, "Fail (exit 1, change nothing) when the definitions lose anything");
}

void configure_undeploy(CLI::App& sub, Invocation& inv) {
  sub.add_option("-m,--manager", inv.manager, "Only if the recorded deployment is onto this manager")
      ->type_name("NAME");
}

void configure_logs(CLI::App& sub, Invocation& inv) {
  sub.add_option("NAME", inv.names, "The instance")->type_name("")->required()->expected(1);
  sub.add_option("-n,--lines", inv.lines, "How many lines from the end to print")->capture_default_str();
  sub.add_flag("-f,--follow", inv.follow, "Keep printing lines as they are written (Ctrl-C ends)");
}

void configure_signal(CLI::App& sub, Invocation& inv) {
  sub.add_option("NAME", inv.names, "Instances, then the signal (a name like HUP, or a number)")
      ->type_name("")
      ->required()
      ->expected(2, -1);
}

void configure_graph(CLI::App& sub, Invocation& inv) {
  sub.add_flag("--dot", inv.dot, "Print the graph in Graphviz DOT");
}

Json plain_request(const Invocation& inv) { return Json{{"op", std::string(inv.verb->op)}}; }

Json logs_request(const Invocation& inv) {
  return Json{{"op", std::string(inv.verb->op)}, {"name", inv.names.empty() ? std::string() : inv.names.front()}};
}

// `signal a b HUP`: every positional but the last names an instance.
Json signal_request(const Invocation& inv) {
  Json request = plain_request(inv);
  std::vector<std::string> names(inv.names.begin(), inv.names.end() - (inv.names.empty() ? 0 : 1));
  request["names"] = names;
  request["signal"] = inv.names.empty() ? std::string() : inv.names.back();
  return request;
}

Json graph_request(const Invocation&) { return Json{{"op", std::string(protocol::op::status)}}; }

Json names_request(const Invocation& inv) {
  Json request = plain_request(inv);
  if (!inv.names.empty()) request["names"] = inv.names;
  return request;
}

// The table needs a few members of each entry; --json prints everything the daemon reports.
Json status_request(const Invocation& inv) {
  Json request = names_request(inv);
  if (!inv.globals.json) request["fields"] = status_table_members();
  return request;
}

Json timeout_value(double seconds) {
  if (seconds == std::floor(seconds)) return static_cast<std::int64_t>(seconds);
  return seconds;
}

Json action_request(const Invocation& inv) {
  Json request = plain_request(inv);
  request["names"] = inv.names;
  request["wait"] = inv.wait;
  request["timeout"] = timeout_value(inv.globals.timeout_seconds);
  return request;
}

const Json& instances_of(const Reply& reply) {
  static const Json empty = Json::array();
  auto it = reply.result.find("instances");
  return it != reply.result.end() && it->is_array() ? *it : empty;
}

int present_status(const Invocation& inv, const Reply& reply, Terminal& term) {
  term.out << (inv.globals.json ? render_json_result(reply.payload)
                                : render_status_table(instances_of(reply), term.colour));
  return exit_code::ok;
}

int present_list(const Invocation& inv, const Reply& reply, Terminal& term) {
  term.out << (inv.globals.json ? render_json_result(reply.payload)
                                : render_list_table(instances_of(reply), term.colour));
  return exit_code::ok;
}

// start/restart: an instance that ended up failed makes the operation fail, even with --no-wait when
// the daemon already knows (for example, exec failed at once).
int present_started(const Invocation& inv, const Reply& reply, Terminal& term) {
  present_status(inv, reply, term);
  const auto failures = describe_failures(inv.verb->name, instances_of(reply));
  for (const auto& line : failures) term.err << "nixpmctl: " << line << '\n';
  return failures.empty() ? exit_code::ok : exit_code::failed;
}

// stop: stopping leaves a failed instance failed, which is not a failure of the stop.
int present_stopped(const Invocation& inv, const Reply& reply, Terminal& term) {
  return present_status(inv, reply, term);
}

int present_quietly(const Invocation& inv, const Reply& reply, Terminal& term) {
  if (inv.globals.json) term.out << render_json_result(reply.payload);
  return exit_code::ok;
}

int present_reload(const Invocation& inv, const Reply& reply, Terminal& term) {
  term.out << (inv.globals.json ? render_json_result(reply.payload) : render_reload(reply.result));
  return exit_code::ok;
}

int present_logs(const Invocation& inv, const Reply& reply, Terminal& term) {
  const std::filesystem::path path = reply.result.value("path", std::string());
  const auto lines = last_lines(path, inv.lines);
  if (inv.globals.json) {
    term.out << Json{{"name", reply.result.value("name", std::string())}, {"path", path.string()}, {"lines", lines}}
                    .dump(2)
             << '\n';
  } else {
    for (const auto& line : lines) term.out << line << '\n';
  }
  term.out.flush();
  if (inv.follow && !follow_file(path, term.out, [] { return true; })) {
    term.err << "nixpmctl: cannot read " << path.string() << '\n';
    return exit_code::failed;
  }
  return exit_code::ok;
}

int present_graph(const Invocation& inv, const Reply& reply, Terminal& term) {
  if (inv.globals.json) {
    Json graph = Json::array();
    for (const auto& instance : instances_of(reply))
      graph.push_back({{"name", instance.value("name", std::string())},
                       {"dependencies", instance.value("dependencies", Json::array())}});
    term.out << Json{{"instances", graph}}.dump(2) << '\n';
  } else {
    term.out << (inv.dot ? render_graph_dot(instances_of(reply)) : render_graph_tree(instances_of(reply)));
  }
  return exit_code::ok;
}

int present_subscribed(const Invocation&, const Reply&, Terminal&) { return exit_code::ok; }

// Prints events until the daemon goes away (exit 0 when it shut down, 1 if the connection broke).
int stream_events(const Invocation& inv, ControlClient& client, Terminal& term) {
  for (;;) {
    Json event;
    try {
      event = client.next_event(std::chrono::hours(24 * 365));
    } catch (const ConnectionError&) {
      return exit_code::ok;  // nixpmd closed the connection: it shut down
    }
    term.out << (inv.globals.json ? event.dump() + "\n" : render_event(event));
    term.out.flush();
  }
}

std::string subject(const Invocation& inv) {
  std::string text(inv.verb->name);
  for (const auto& name : inv.names) text += " " + name;
  return text;
}

}  // namespace

const std::vector<Verb>& verbs() {
  static const std::vector<Verb> table = {
      {"status", protocol::op::status, "Show the state of instances (all of them when no NAME is given)",
       "Columns: NAME STATE PID UPTIME RESTARTS LAST-EXIT. With --json, prints the daemon's reply "
       "{\"instances\": [...]} including every field it reports.",
       configure_optional_names, status_request, present_status},
      {"list", protocol::op::list, "List the defined instances with their description",
       "Columns: NAME STATE AUTOSTART DESCRIPTION.", configure_nothing, plain_request, present_list},
      {"start", protocol::op::start, "Start instances (after their dependencies) and wait until ready",
       "Waits until every NAME is ready or failed (at most --timeout seconds) unless --no-wait is given. "
       "Exits 1 when an instance fails to start.",
       configure_action, action_request, present_started},
      {"stop", protocol::op::stop, "Stop instances (after their dependents) and wait until stopped",
       "Waits until every NAME has stopped (at most --timeout seconds) unless --no-wait is given.",
       configure_action, action_request, present_stopped},
      {"restart", protocol::op::restart, "Stop, then start instances, and wait until ready",
       "Waits until every NAME is ready again or failed (at most --timeout seconds) unless --no-wait is "
       "given. Exits 1 when an instance fails to start.",
       configure_action, action_request, present_started},
      {"reload", protocol::op::reload, "Switch to the current definitions, restarting only what changed",
       "Reads the definitions file again. New instances start, removed ones stop, changed ones (and what "
       "depends on them) restart; unchanged ones keep running with the same pid. Invalid definitions are "
       "refused with their diagnostics (exit 2) and nothing changes. Prints what changed. Same as SIGHUP "
       "to nixpmd.",
       configure_nothing, plain_request, present_reload},
      {"logs", protocol::op::logs, "Print the end of an instance's log; -f keeps following it",
       "Prints the last -n lines (default 10) of <logDir>/NAME.log. With -f, keeps printing what is "
       "appended, across rotations, until interrupted. --json prints {\"name\", \"path\", \"lines\"}.",
       configure_logs, logs_request, present_logs},
      {"signal", protocol::op::signal, "Send a signal to instances' process groups",
       "nixpmctl signal NAME... SIGNAL, where SIGNAL is a name (HUP, SIGUSR1) or a number. Fails when an "
       "instance has no process.",
       configure_signal, signal_request, present_quietly},
      {"graph", protocol::op::status, "Show the dependency graph (--dot for Graphviz)",
       "Prints each instance that nothing depends on with its dependencies below it; --dot prints the "
       "same graph in Graphviz DOT, --json as {\"instances\": [{\"name\", \"dependencies\"}]}.",
       configure_graph, graph_request, present_graph},
      {"watch", protocol::op::subscribe, "Print state changes as they happen",
       "Subscribes to the daemon's events and prints one line per state change and per reload, until "
       "nixpmd shuts down or you interrupt it. --json prints each event as one JSON object per line.",
       configure_nothing, plain_request, present_subscribed, nullptr, stream_events},
      {"shutdown", protocol::op::shutdown, "Stop every instance in dependency order, then stop nixpmd",
       "Returns once the daemon has accepted the request; the daemon then stops everything and exits.",
       configure_nothing, plain_request, present_quietly},
      {"check", "check", "Validate the definitions and show the resolved instances (no daemon needed)",
       "Loads the definitions file (-c FILE, default: the daemon's; .yaml, .nix or a directory of "
       "nix-processmgmt JSON configs) with the directory settings given (--state-dir, ...). Prints every "
       "error and warning with file:line:column and exits 2 when there are errors; otherwise prints each "
       "instance's command line and dependencies and the activation order: levels whose instances start "
       "in parallel. --json prints the fully resolved model with \"activationOrder\". Commands must "
       "exist on this machine unless --no-executable-check is given. Never writes anything.",
       configure_check, plain_request, present_quietly, run_check},
      {"generate", "generate", "Write native configuration for another process manager (no daemon needed)",
       "nixpmctl generate --manager M -o DIR [-c FILE] [--user|--system] [--strict]. Loads the definitions "
       "as check does and writes M's own files (units, scripts, configuration) to DIR; --user or --system "
       "chooses the scope, --state-dir and the other directory options where pid files and logs go. Prints "
       "what the definitions lose on M to stderr, one line each (\"nginx: umask: lost on launchd: ...\"); "
       "with --strict any loss is an error: exit 1 and nothing is written. --list names the managers; "
       "--capabilities prints which property each manager supports, emulates or loses (Markdown). --json "
       "prints the files, the start order and the losses. Exit 2 for an unknown manager, a missing -o or "
       "invalid definitions. See docs/managers.md.",
       configure_generate, plain_request, present_quietly, run_generate},
      {"deploy", "deploy", "Install the definitions into a native process manager and start them there",
       "nixpmctl deploy --manager M [-c FILE] [--user|--system] [--root DIR] [--strict]. Generates M's files "
       "as generate does, installs them in M's place (--root DIR instead: e.g. a runsvdir or s6-svscan "
       "directory, or where init.d/ goes) and starts the instances in dependency order through M's own tool "
       "(supervisorctl, sv, s6-svc, the init scripts, systemctl, launchctl, ...). A redeploy compares with "
       "the last deployment (recorded in <stateDir>/lib/nixpm/deployment.json): what it lacks is stopped and "
       "its files removed, instances whose files are unchanged are left running, changed ones are stopped, "
       "updated and started, new ones started. Prints what changed (as reload does); --json prints it with "
       "the errors. Losses are reported as by generate; --strict refuses them (exit 1, nothing changes). "
       "Exit 1 when a tool fails (the others still run), 2 for a usage error, invalid definitions or a "
       "recorded deployment onto another manager or root. See docs/managers.md.",
       configure_deploy, plain_request, present_quietly, run_deploy},
      {"undeploy", "undeploy", "Stop and remove what the last deploy installed",
       "Stops every instance of the recorded deployment through its manager's tool (dependents first), "
       "removes the installed files, stops the manager when deploy had started it, and clears the record. "
       "With --manager M, refuses (exit 2) when the recorded deployment is onto another manager. Nothing "
       "deployed is not an error.",
       configure_undeploy, plain_request, present_quietly, run_undeploy},
  };
  return table;
}

ParseOutcome parse_command_line(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Invocation inv;
  CLI::App app("Control nixpmd, the nixpm process supervisor", "nixpmctl");
  app.set_version_flag("-V,--version", std::string("nixpmctl ") + kVersionString);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the verb
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "nixpmctl: " + std::string(e.what()) + "\nRun 'nixpmctl --help' for more information.\n";
  });
  app.footer("Exit status: 0 done, 1 the operation failed, 2 usage error or unknown instance, "
             "3 nixpmd not reachable.");
  add_global_options(app, inv.globals);

  for (const Verb& verb : verbs()) {
    CLI::App* sub = app.add_subcommand(std::string(verb.name), std::string(verb.summary));
    sub->footer(std::string(verb.details) + "\nGlobal options (see nixpmctl --help) may also follow the verb.");
    verb.configure(*sub, inv);
    sub->final_callback([&inv, &verb] { inv.verb = &verb; });
  }

  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend()));
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return ParseOutcome{std::nullopt, code == 0 ? exit_code::ok : exit_code::usage};
  }
  if (inv.verb == nullptr) {  // cannot happen with require_subcommand(1); kept as a guard
    err << "nixpmctl: no verb given\nRun 'nixpmctl --help' for more information.\n";
    return ParseOutcome{std::nullopt, exit_code::usage};
  }
  return ParseOutcome{std::move(inv), exit_code::ok};
}

Json build_request(const Invocation& inv) { return inv.verb->request(inv); }

ControlClient::Duration connect_timeout(const Invocation& inv) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(inv.globals.timeout_seconds * 1000)));
}

ControlClient::Duration reply_timeout(const Invocation& inv) {
  const auto base = connect_timeout(inv);
  // Only a request that asks the daemon to wait for an outcome can legitimately take that long.
  const bool waits = build_request(inv).value("wait", false);
  return waits ? base + std::chrono::duration_cast<ControlClient::Duration>(kReplyGrace) : base;
}

int report_error_reply(const Invocation& inv, const ErrorReply& error, Terminal& term) {
  const auto failures = describe_failures(inv.verb->name, error.instances());
  if (failures.empty()) {
    term.err << "nixpmctl: " << subject(inv) << ": " << error.message() << '\n';
  } else {
    for (const auto& line : failures) term.err << "nixpmctl: " << line << '\n';
  }
  return error.exit_code();
}

namespace {
// After a failed start, the end of each failed instance's log usually says why.
void print_log_tails(const Invocation& inv, ControlClient& client, const Json& instances, Terminal& term) {
  constexpr std::size_t kTailLines = 5;
  for (const auto& instance : instances) {
    if (instance.value("state", std::string()) != "failed") continue;
    const auto name = instance.value("name", std::string());
    try {
      const auto reply = client.request(Json{{"op", std::string(protocol::op::logs)}, {"name", name}},
                                        connect_timeout(inv));
      const auto lines = last_lines(reply.result.value("path", std::string()), kTailLines);
      if (lines.empty()) continue;
      term.err << "nixpmctl: last lines of " << name << "'s log:\n";
      for (const auto& line : lines) term.err << "    " << line << '\n';
    } catch (const ClientError&) {
      return;  // the failure itself was reported; the log is a courtesy
    }
  }
}
}  // namespace

int run(const std::vector<std::string>& args, const EnvLookup& env, uid_t uid, Terminal& term) {
  ParseOutcome parsed = parse_command_line(args, term.out, term.err);
  if (!parsed.invocation) return parsed.exit_code;
  const Invocation& inv = *parsed.invocation;

  const Paths paths = resolve_paths(inv.globals.overrides, env, uid);
  if (inv.verb->local != nullptr) return inv.verb->local(inv, paths, term);
  ControlClient client(paths.socket);
  client.connect(connect_timeout(inv));
  Reply reply;
  try {
    reply = client.request(build_request(inv), reply_timeout(inv));
  } catch (const ErrorReply& error) {
    const int status = report_error_reply(inv, error, term);
    if (error.code() == protocol::error::failed) print_log_tails(inv, client, error.instances(), term);
    return status;
  }
  const int status = inv.verb->present(inv, reply, term);
  if (status != exit_code::ok || inv.verb->stream == nullptr) return status;
  return inv.verb->stream(inv, client, term);
}

}  // namespace nixpm::client
