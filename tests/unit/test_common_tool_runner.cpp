// run_tool with real child processes: outputs, exit status, environment, deadline, output cap, and
// find_program's PATH search.

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "common/tool_runner.hpp"

namespace nixpm {
namespace {

ToolRequest shell(const std::string& script) {
  ToolRequest request;
  request.program = "/bin/sh";
  request.argv = {"sh", "-c", script};
  return request;
}

TEST_CASE("run_tool keeps stdout and stderr apart, or merges them, and reports the exit status") {
  auto result = run_tool(shell("echo out; echo err >&2; exit 3"));
  CHECK(result.error.empty());
  CHECK(result.out == "out\n");
  CHECK(result.err == "err\n");
  CHECK_FALSE(result.exited_zero());
  CHECK(result.status_text() == "exited 3");

  auto request = shell("echo one; echo two >&2; echo three");
  request.merge_stderr = true;
  result = run_tool(request);
  CHECK(result.exited_zero());
  CHECK(result.out == "one\ntwo\nthree\n");
  CHECK(result.err.empty());
}

TEST_CASE("run_tool passes arguments as they are and the given environment only") {
  ToolRequest request;
  request.program = "/bin/sh";
  request.argv = {"sh", "-c", "printf '%s|' \"$1\" \"$2\" \"${HOME-unset}\" \"$ONLY\"", "sh", "a b", "$HOME"};
  request.environment = {"ONLY=this"};
  const auto result = run_tool(request);
  CHECK(result.exited_zero());
  CHECK(result.out == "a b|$HOME|unset|this|");
}

TEST_CASE("run_tool stops a tool at its deadline or when it prints too much") {
  auto request = shell("exec sleep 30");
  request.timeout = std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  auto result = run_tool(request);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  CHECK(result.error == "sh did not finish within 0.2 seconds (or printed too much) and was stopped");
  CHECK(WIFSIGNALED(result.wait_status));
  CHECK_FALSE(result.exited_zero());

  request = shell("exec yes");
  request.max_output = 100000;
  result = run_tool(request);
  CHECK_FALSE(result.error.empty());
  CHECK(result.out.size() > 100000);
}

TEST_CASE("until_exit: done when the tool exits, though a process it started holds the output open") {
  auto request = shell("sleep 30 & echo $!; echo started >&2");
  request.until_exit = true;
  request.timeout = std::chrono::milliseconds(20'000);
  const auto start = std::chrono::steady_clock::now();
  const auto result = run_tool(request);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(result.error.empty());
  CHECK(result.exited_zero());
  CHECK(took < std::chrono::seconds(15));
  CHECK(result.err == "started\n");
  const pid_t sleeper = std::stoi(result.out);
  REQUIRE(sleeper > 0);
  CHECK(::kill(sleeper, SIGKILL) == 0);  // ours: the tool's child, named by the tool itself
}

TEST_CASE("run_tool reports a program that cannot run, and a killed one") {
  ToolRequest request;
  request.program = "/nonexistent/tool";
  request.argv = {"tool"};
  auto result = run_tool(request);
  CHECK(result.error == "cannot run /nonexistent/tool: No such file or directory");
  CHECK(result.status_text() == result.error);

  result = run_tool(shell("kill -TERM $$"));
  CHECK(result.error.empty());
  CHECK(WIFSIGNALED(result.wait_status));
  CHECK(result.status_text().rfind("killed by signal 15 (", 0) == 0);
}

TEST_CASE("find_program searches the given path; a name with a slash is taken as it is") {
  CHECK(find_program("sh", "/nonexistent:/bin") == std::filesystem::path("/bin/sh"));
  CHECK_FALSE(find_program("sh", "/nonexistent"));
  CHECK(find_program("/bin/sh", "") == std::filesystem::path("/bin/sh"));
  CHECK_FALSE(find_program("/etc/passwd", ""));  // not executable
  CHECK_FALSE(find_program("", "/bin"));
  CHECK(find_program_on_path("sh").has_value());
}

}  // namespace
}  // namespace nixpm
