#include "config/managers/manager_tool.hpp"

#include <cctype>

#include "config/managers/manager_tools.hpp"

namespace nixpm::managers {
namespace fs = std::filesystem;

std::string ManagerTool::owner_of(const fs::path& file, const std::vector<std::string>& services) const {
  const auto first = file.begin() == file.end() ? std::string() : file.begin()->string();
  for (const auto& service : services)
    if (first == service) return service;
  const auto stem = file.stem().string();
  for (const auto& service : services)
    if (stem == service) return service;
  return {};
}

ToolOutcome ManagerTool::activate(const ToolContext&, bool& started_manager) const {
  started_manager = false;
  return {};
}

ToolOutcome ManagerTool::restart(const ToolContext& context, const std::string& service) const {
  if (auto stopped = stop(context, service); !stopped.ok()) return stopped;
  return start(context, service);
}

fs::path ManagerTool::log_path(const ToolContext& context, const std::string& instance) const {
  return context.log_dir / (instance + ".log");
}

const ManagerTool* find_tool(std::string_view manager) {
  static const std::vector<const ManagerTool*> tools{
      &systemd_tool(), &supervisord_tool(), &sysvinit_tool(), &bsdrc_tool(), &launchd_tool(),
      &cygrunsrv_tool(), &s6_rc_tool(), &runit_tool(), &s6_tool(),
  };
  for (const auto* tool : tools)
    if (tool->manager() == manager) return tool;
  return nullptr;
}

namespace tool {

ToolResult run(const ToolContext& context, std::vector<std::string> argv,
               std::vector<std::pair<std::string, std::string>> environment) {
  // The tool's own wait (sv -w, s6-svc -T, start-stop-daemon --retry) comes first; this is the backstop.
  const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(context.timeout) +
                     std::chrono::seconds(10);
  return context.runner->run(ToolCommand{std::move(argv), std::move(environment)}, limit);
}

std::string failure(const ToolCommand& command, const ToolResult& result) {
  if (!result.failure.empty()) return result.failure;
  std::string output = result.output;
  while (!output.empty() && std::isspace(static_cast<unsigned char>(output.back()))) output.pop_back();
  std::string text = describe_command(command) + ": exited " + std::to_string(result.exit_status);
  if (!output.empty()) text += ": " + output;
  return text;
}

ToolOutcome outcome(const ToolContext& context, std::vector<std::string> argv,
                    std::vector<std::pair<std::string, std::string>> environment) {
  ToolCommand command{argv, environment};
  const auto result = run(context, std::move(argv), std::move(environment));
  if (result.ok()) return {};
  return {failure(command, result)};
}

std::string seconds(const ToolContext& context) { return std::to_string(context.timeout.count()); }

std::optional<long long> number_after(std::string_view text, std::string_view marker) {
  const auto at = text.find(marker);
  if (at == std::string_view::npos) return std::nullopt;
  auto position = at + marker.size();
  while (position < text.size() && text[position] == ' ') ++position;
  long long value = 0;
  bool any = false;
  while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position]))) {
    value = value * 10 + (text[position] - '0');
    any = true;
    ++position;
  }
  if (!any) return std::nullopt;
  return value;
}

bool wait_until(const ToolContext& context, const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + context.timeout;
  auto delay = std::chrono::milliseconds(20);
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    context.runner->pause(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(250));
  }
}

}  // namespace tool
}  // namespace nixpm::managers
