#include "client/render_more.hpp"

#include <ctime>
#include <set>
#include <unordered_map>
#include <vector>

namespace nixpm::client {
using protocol::Json;

namespace {

std::vector<std::string> strings_of(const Json& value) {
  std::vector<std::string> result;
  if (value.is_array())
    for (const auto& item : value)
      if (item.is_string()) result.push_back(item.get<std::string>());
  return result;
}

std::string quoted(const std::string& text) {
  std::string result = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') result += '\\';
    result += c;
  }
  return result + "\"";
}

}  // namespace

std::string render_reload(const Json& result) {
  std::string text;
  for (const char* category : {"added", "removed", "changed", "restarted", "unchanged"}) {
    const auto names = strings_of(result.value(category, Json::array()));
    if (names.empty()) continue;
    text += std::string(category) + ":";
    for (const auto& name : names) text += " " + name;
    text += "\n";
  }
  const bool changed = result.value("added", Json::array()).size() + result.value("removed", Json::array()).size() +
                           result.value("changed", Json::array()).size() >
                       0;
  if (!changed) text += "nothing changed\n";
  return text;
}

std::string render_graph_tree(const Json& instances) {
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<std::string>> dependencies;
  std::set<std::string> depended_on;
  for (const auto& instance : instances) {
    const auto name = instance.value("name", std::string());
    order.push_back(name);
    dependencies[name] = strings_of(instance.value("dependencies", Json::array()));
    for (const auto& d : dependencies[name]) depended_on.insert(d);
  }
  std::string text;
  std::set<std::string> printed;
  // Depth-first with an explicit stack, so a long chain cannot overflow the client's stack either.
  for (const auto& root : order) {
    if (depended_on.count(root)) continue;
    std::vector<std::pair<std::string, std::size_t>> stack{{root, 0}};
    while (!stack.empty()) {
      auto [name, depth] = stack.back();
      stack.pop_back();
      text += std::string(depth * 2, ' ') + (depth ? "└─ " : "") + name;
      if (printed.count(name) && !dependencies[name].empty()) {
        text += " (see above)\n";
        continue;
      }
      text += "\n";
      printed.insert(name);
      const auto& children = dependencies[name];
      for (auto it = children.rbegin(); it != children.rend(); ++it) stack.emplace_back(*it, depth + 1);
    }
  }
  return text;
}

std::string render_graph_dot(const Json& instances) {
  std::string text = "digraph nixpm {\n  rankdir=LR;\n";
  for (const auto& instance : instances) {
    const auto name = instance.value("name", std::string());
    text += "  " + quoted(name) + ";\n";
    for (const auto& dependency : strings_of(instance.value("dependencies", Json::array())))
      text += "  " + quoted(name) + " -> " + quoted(dependency) + ";\n";
  }
  return text + "}\n";
}

std::string render_event(const Json& event) {
  std::string when;
  if (event.contains("time") && event["time"].is_number()) {
    const auto seconds = static_cast<std::time_t>(event["time"].get<double>());
    std::tm local{};
    localtime_r(&seconds, &local);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
    when = std::string(buffer) + " ";
  }
  const auto kind = event.value("event", std::string());
  if (kind == "reload") {
    auto text = render_reload(event.value("changes", Json::object()));
    std::string joined;
    for (char c : text) joined += c == '\n' ? ';' : c;
    if (!joined.empty() && joined.back() == ';') joined.pop_back();
    return when + "reload: " + joined + "\n";
  }
  std::string line = when + event.value("name", std::string()) + " " + event.value("state", std::string());
  if (event.contains("pid") && event["pid"].is_number()) line += " pid " + std::to_string(event["pid"].get<long>());
  if (event.contains("lastExit") && event["lastExit"].is_string() && event.value("state", "") != "running")
    line += " (" + event["lastExit"].get<std::string>() + ")";
  if (event.contains("error") && event["error"].is_string()) line += ": " + event["error"].get<std::string>();
  return line + "\n";
}

}  // namespace nixpm::client
