// nixpmctl's command line (parsing -> request), and the control client against a fake daemon that
// speaks the framing on a real Unix socket.

#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/commands.hpp"
#include "client/control_client.hpp"
#include "client/render.hpp"

using nixpm::protocol::Json;
namespace c = nixpm::client;
using namespace std::chrono_literals;

namespace {

struct Parsed {
  c::ParseOutcome outcome;
  std::string out;
  std::string err;
};

Parsed parse(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  auto outcome = c::parse_command_line(args, out, err);
  return Parsed{std::move(outcome), out.str(), err.str()};
}

c::Invocation invocation(const std::vector<std::string>& args) {
  auto parsed = parse(args);
  INFO(parsed.err);
  REQUIRE(parsed.outcome.invocation);
  return *parsed.outcome.invocation;
}

int usage_exit(const std::vector<std::string>& args) {
  auto parsed = parse(args);
  CHECK_FALSE(parsed.outcome.invocation);
  CHECK(parsed.err.rfind("nixpmctl: ", 0) == 0);
  return parsed.outcome.exit_code;
}

// What the fake daemon does with a request: send `bytes` (usually one encoded frame; empty: say nothing),
// then maybe hang up.
struct Answer {
  Answer(std::string b = {}, bool close = false) : bytes(std::move(b)), close_after(close) {}  // NOLINT
  std::string bytes;
  bool close_after;
};

// A one-connection fake nixpmd that calls `respond` for each request it reads.
class FakeDaemon {
 public:
  using Respond = std::function<Answer(const Json& request)>;

  explicit FakeDaemon(Respond respond) : respond_(std::move(respond)) {
    char dir_template[] = "/tmp/nixpmctl-test-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    dir_ = dir_template;
    path_ = (dir_ / "control.sock").string();
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener_, 4) == 0);
    thread_ = std::thread([this] { serve(); });
  }

  ~FakeDaemon() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  const std::string& path() const { return path_; }

  std::vector<Json> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  static Respond hello_then(Respond rest) {
    return [rest](const Json& request) -> Answer {
      if (request.value("op", "") == "hello")
        return nixpm::protocol::encode_frame(nixpm::protocol::make_ok(
            request["id"], Json{{"protocol", 1}, {"daemon", "nixpmd 0.1.0"}, {"mode", "user"}, {"pid", 99}}));
      return rest(request);
    };
  }

 private:
  // Waits until `fd` is readable or the test is over.
  bool wait_readable(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) return true;
    }
    return false;
  }

  void serve() {
    if (!wait_readable(listener_)) return;
    const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) return;
    nixpm::protocol::FrameDecoder decoder;
    char buffer[4096];
    bool open = true;
    while (open && wait_readable(connection)) {
      const ssize_t n = ::read(connection, buffer, sizeof buffer);
      if (n <= 0) break;
      decoder.feed(buffer, static_cast<std::size_t>(n));
      std::string payload;
      while (open && decoder.next(payload) == nixpm::protocol::FrameDecoder::Status::frame) {
        Json request = nixpm::protocol::parse_message(payload).value_or(Json::object());
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
        }
        const Answer answer = respond_(request);
        if (!answer.bytes.empty())
          (void)!::send(connection, answer.bytes.data(), answer.bytes.size(), MSG_NOSIGNAL);
        if (answer.close_after) open = false;
      }
    }
    ::close(connection);
  }

  Respond respond_;
  std::filesystem::path dir_;
  std::string path_;
  int listener_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<Json> requests_;
  std::thread thread_;
};

std::string ok_frame(const Json& request, Json result) {
  return nixpm::protocol::encode_frame(nixpm::protocol::make_ok(request["id"], std::move(result)));
}

std::string error_frame(const Json& request, std::string_view code, std::string_view message,
                        Json instances = nullptr) {
  Json reply = nixpm::protocol::make_error(request["id"], code, message);
  if (!instances.is_null()) reply["error"]["instances"] = std::move(instances);
  return nixpm::protocol::encode_frame(reply);
}

Json entry(const std::string& name, const std::string& state) {
  return Json{{"name", name}, {"state", state}, {"pid", nullptr}, {"uptime", nullptr}, {"restarts", 0},
              {"lastExit", nullptr}, {"error", nullptr}};
}

nixpm::EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

struct RunResult {
  int status;
  std::string out;
  std::string err;
};

RunResult run_against(const FakeDaemon& daemon, const std::vector<std::string>& args) {
  std::ostringstream out, err;
  c::Terminal term{out, err, false};
  const int status = c::run(args, env_of({{"NIXPM_SOCKET", daemon.path()}}), 1000, term);
  return RunResult{status, out.str(), err.str()};
}

}  // namespace

// ---- parsing -----------------------------------------------------------------------------------------

TEST_CASE("stop with --no-wait maps to a non-waiting stop request", "[client][commands]") {
  const auto inv = invocation({"stop", "a", "b", "--no-wait"});
  CHECK(c::build_request(inv) == Json{{"op", "stop"}, {"names", {"a", "b"}}, {"wait", false}, {"timeout", 60}});
  CHECK(c::reply_timeout(inv) == 60s);
}

TEST_CASE("start and restart wait by default and carry the timeout", "[client][commands]") {
  const auto start = invocation({"start", "webapp1"});
  CHECK(c::build_request(start) == Json{{"op", "start"}, {"names", {"webapp1"}}, {"wait", true}, {"timeout", 60}});
  CHECK(c::reply_timeout(start) == 65s);  // the daemon's own timeout reply arrives first

  const auto restart = invocation({"--timeout", "2.5", "restart", "x"});
  CHECK(c::build_request(restart) == Json{{"op", "restart"}, {"names", {"x"}}, {"wait", true}, {"timeout", 2.5}});
  CHECK(c::connect_timeout(restart) == 2500ms);
  CHECK(c::reply_timeout(restart) == 7500ms);
}

TEST_CASE("status, list and shutdown requests", "[client][commands]") {
  // The table asks only for the members it shows; --json asks for everything.
  const Json table_fields = c::status_table_members();
  CHECK(c::build_request(invocation({"status"})) == Json{{"op", "status"}, {"fields", table_fields}});
  CHECK(c::build_request(invocation({"status", "a", "b"})) ==
        Json{{"op", "status"}, {"names", {"a", "b"}}, {"fields", table_fields}});
  CHECK(c::build_request(invocation({"status", "--json", "a"})) == Json{{"op", "status"}, {"names", {"a"}}});
  CHECK(c::build_request(invocation({"list"})) == Json{{"op", "list"}});
  CHECK(c::build_request(invocation({"shutdown"})) == Json{{"op", "shutdown"}});
}

TEST_CASE("global options are accepted before and after the verb", "[client][commands]") {
  CHECK(invocation({"status", "--json"}).globals.json);
  CHECK(invocation({"--json", "status"}).globals.json);
  CHECK(invocation({"status", "a", "--json", "b"}).names == std::vector<std::string>{"a", "b"});

  const auto inv = invocation({"stop", "x", "--socket", "/run/x.sock", "--system", "--timeout", "5"});
  CHECK(inv.globals.overrides.socket == std::filesystem::path("/run/x.sock"));
  CHECK(inv.globals.overrides.mode == nixpm::Mode::system);
  CHECK(inv.globals.timeout_seconds == 5);
  CHECK(invocation({"--user", "list"}).globals.overrides.mode == nixpm::Mode::user);
}

TEST_CASE("state directory overrides are accepted for symmetry with nixpmd", "[client][commands]") {
  const auto inv = invocation({"-c", "/etc/p.yaml", "--state-dir", "/s", "--runtime-dir", "/r", "--log-dir", "/l",
                               "--tmp-dir", "/t", "--cache-dir", "/k", "--force-disable-user-change", "list"});
  const auto& o = inv.globals.overrides;
  CHECK(o.config_file == std::filesystem::path("/etc/p.yaml"));
  CHECK(o.state_dir == std::filesystem::path("/s"));
  CHECK(o.runtime_dir == std::filesystem::path("/r"));
  CHECK(o.log_dir == std::filesystem::path("/l"));
  CHECK(o.tmp_dir == std::filesystem::path("/t"));
  CHECK(o.cache_dir == std::filesystem::path("/k"));
  CHECK(o.force_disable_user_change);
}

TEST_CASE("usage errors exit with status 2", "[client][commands]") {
  CHECK(usage_exit({}) == 2);                                  // no verb
  CHECK(usage_exit({"frobnicate"}) == 2);                      // unknown verb
  CHECK(usage_exit({"start"}) == 2);                           // NAME is required
  CHECK(usage_exit({"list", "extra"}) == 2);                   // list takes no names
  CHECK(usage_exit({"status", "--bogus"}) == 2);               // unknown option
  CHECK(usage_exit({"--timeout", "0", "status"}) == 2);        // not positive
  CHECK(usage_exit({"--timeout", "soon", "status"}) == 2);     // not a number
  CHECK(usage_exit({"--user", "--system", "status"}) == 2);    // exclusive
}

TEST_CASE("help lists every verb and each verb explains its options", "[client][commands]") {
  auto top = parse({"--help"});
  CHECK_FALSE(top.outcome.invocation);
  CHECK(top.outcome.exit_code == 0);
  for (const auto& verb : c::verbs()) {
    CHECK(top.out.find(std::string(verb.name)) != std::string::npos);
    CHECK(top.out.find(std::string(verb.summary)) != std::string::npos);
  }

  auto stop = parse({"stop", "--help"});
  CHECK(stop.outcome.exit_code == 0);
  CHECK(stop.out.find("--no-wait") != std::string::npos);
  CHECK(stop.out.find("NAME") != std::string::npos);
}

TEST_CASE("the version flag prints the version", "[client][commands]") {
  auto parsed = parse({"-V"});
  CHECK_FALSE(parsed.outcome.invocation);
  CHECK(parsed.outcome.exit_code == 0);
  CHECK(parsed.out.rfind("nixpmctl ", 0) == 0);
}

// ---- the control client ------------------------------------------------------------------------------

TEST_CASE("the client says hello first and then gets a normal reply", "[client][socket]") {
  FakeDaemon daemon(FakeDaemon::hello_then([](const Json& request) -> Answer {
    return ok_frame(request, Json{{"instances", Json::array({entry("web", "running")})}});
  }));
  c::ControlClient client(daemon.path());
  const Json& hello = client.connect(2s);
  CHECK(hello["daemon"] == "nixpmd 0.1.0");

  const c::Reply reply = client.request(Json{{"op", "status"}}, 2s);
  CHECK(reply.result["instances"][0]["name"] == "web");
  CHECK(reply.payload.find("\"web\"") != std::string::npos);

  const auto requests = daemon.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0]["id"] == 0);
  CHECK(requests[0]["op"] == "hello");
  CHECK(requests[0]["protocol"] == 1);
  CHECK(requests[0]["client"].get<std::string>().rfind("nixpmctl ", 0) == 0);
  CHECK(requests[1]["id"] == 1);
  CHECK(requests[1]["op"] == "status");
}

TEST_CASE("an error reply becomes ErrorReply with its code", "[client][socket]") {
  FakeDaemon daemon(FakeDaemon::hello_then([](const Json& request) -> Answer {
    if (request["op"] == "status") return error_frame(request, "unknown-instance", "unknown instance 'x'");
    return error_frame(request, "failed", "webapp1: exec failed", Json::array({entry("webapp1", "failed")}));
  }));
  c::ControlClient client(daemon.path());
  client.connect(2s);
  try {
    client.request(Json{{"op", "status"}, {"names", {"x"}}}, 2s);
    FAIL("no exception");
  } catch (const c::ErrorReply& e) {
    CHECK(e.code() == "unknown-instance");
    CHECK(e.message() == "unknown instance 'x'");
    CHECK(e.exit_code() == 2);
    CHECK(e.instances().empty());
  }
  try {
    client.request(Json{{"op", "start"}, {"names", {"webapp1"}}}, 2s);
    FAIL("no exception");
  } catch (const c::ErrorReply& e) {
    CHECK(e.code() == "failed");
    CHECK(e.exit_code() == 1);
    REQUIRE(e.instances().size() == 1);
    CHECK(e.instances()[0]["name"] == "webapp1");
  }
}

TEST_CASE("a refused handshake is an ErrorReply", "[client][socket]") {
  FakeDaemon daemon([](const Json& request) -> Answer {
    return error_frame(request, "unsupported-version", "protocol 1 is not supported");
  });
  c::ControlClient client(daemon.path());
  CHECK_THROWS_AS(client.connect(2s), c::ErrorReply);
}

TEST_CASE("an unreachable socket is DaemonUnreachable (exit 3)", "[client][socket]") {
  char dir_template[] = "/tmp/nixpmctl-test-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::filesystem::path dir = dir_template;

  const std::string missing = (dir / "missing.sock").string();
  try {
    c::ControlClient(missing).connect(1s);
    FAIL("no exception");
  } catch (const c::DaemonUnreachable& e) {
    CHECK(e.exit_code() == 3);
    CHECK(std::string(e.what()).find(missing) != std::string::npos);
    CHECK(std::string(e.what()).find("nixpmd") != std::string::npos);
  }

  // A socket file nobody listens on (a daemon that died): connection refused.
  const std::string stale = (dir / "stale.sock").string();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, stale.c_str(), sizeof address.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  ::close(fd);
  CHECK_THROWS_AS(c::ControlClient(stale).connect(1s), c::DaemonUnreachable);

  std::filesystem::remove_all(dir);
}

TEST_CASE("a connection closed mid-reply is a ConnectionError (exit 1)", "[client][socket]") {
  FakeDaemon daemon(FakeDaemon::hello_then([](const Json& request) -> Answer {
    return Answer{ok_frame(request, Json{{"instances", Json::array()}}).substr(0, 10), true};  // half a frame
  }));
  c::ControlClient client(daemon.path());
  client.connect(2s);
  try {
    client.request(Json{{"op", "list"}}, 2s);
    FAIL("no exception");
  } catch (const c::ConnectionError& e) {
    CHECK(e.exit_code() == 1);
  }
}

TEST_CASE("a daemon that never answers hits the deadline", "[client][socket]") {
  FakeDaemon daemon(FakeDaemon::hello_then([](const Json&) -> Answer { return Answer{}; }));
  c::ControlClient client(daemon.path());
  client.connect(2s);
  CHECK_THROWS_AS(client.request(Json{{"op", "status"}}, 200ms), c::ClientTimeout);
}

// ---- whole commands ------------------------------------------------------------------------------------

TEST_CASE("run finds the socket through NIXPM_SOCKET and prints JSON", "[client][run]") {
  FakeDaemon daemon(FakeDaemon::hello_then([](const Json& request) -> Answer {
    return ok_frame(request, Json{{"instances", Json::array({entry("a", "stopping"), entry("b", "stopped")})}});
  }));
  const auto result = run_against(daemon, {"stop", "a", "b", "--no-wait", "--json"});
  CHECK(result.status == 0);
  CHECK(result.err.empty());
  CHECK(Json::parse(result.out)["instances"].size() == 2);
  const auto requests = daemon.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1]["op"] == "stop");
  CHECK(requests[1]["names"] == Json{"a", "b"});
  CHECK(requests[1]["wait"] == false);
}

TEST_CASE("run reports a failed start on stderr with status 1", "[client][run]") {
  FakeDaemon daemon(FakeDaemon::hello_then([](const Json& request) -> Answer {
    Json failed = entry("webapp1", "failed");
    failed["error"] = "exec: No such file or directory";
    return error_frame(request, "failed", "webapp1 failed to start", Json::array({failed}));
  }));
  const auto result = run_against(daemon, {"start", "webapp1"});
  CHECK(result.status == 1);
  CHECK(result.err == "nixpmctl: start webapp1: failed: exec: No such file or directory\n");
}

TEST_CASE("run: an instance failed in a successful reply still fails the start", "[client][run]") {
  FakeDaemon daemon(FakeDaemon::hello_then([](const Json& request) -> Answer {
    Json failed = entry("webapp1", "failed");
    failed["error"] = "exec: Permission denied";
    return ok_frame(request, Json{{"instances", Json::array({failed})}});
  }));
  const auto result = run_against(daemon, {"start", "--no-wait", "webapp1"});
  CHECK(result.status == 1);
  CHECK(result.out.find("webapp1") != std::string::npos);
  CHECK(result.err == "nixpmctl: start webapp1: failed: exec: Permission denied\n");
}

TEST_CASE("run: an unknown instance is a usage error", "[client][run]") {
  FakeDaemon daemon(FakeDaemon::hello_then([](const Json& request) -> Answer {
    return error_frame(request, "unknown-instance", "unknown instance 'nope'");
  }));
  const auto result = run_against(daemon, {"status", "nope"});
  CHECK(result.status == 2);
  CHECK(result.err == "nixpmctl: status nope: unknown instance 'nope'\n");
}

TEST_CASE("an instance may be named like a verb", "[client][commands]") {
  const auto inv = invocation({"status", "list", "start"});
  CHECK(inv.verb->name == "status");
  CHECK(inv.names == std::vector<std::string>{"list", "start"});
}
