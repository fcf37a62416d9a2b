#include "client/render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace nixpm::client {
using protocol::Json;

namespace {

constexpr std::string_view kGreen = "\x1b[32m";
constexpr std::string_view kYellow = "\x1b[33m";
constexpr std::string_view kRed = "\x1b[31m";
constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kDash = "-";

const Json& member(const Json& object, const char* key) {
  static const Json null_value;
  if (!object.is_object()) return null_value;
  auto it = object.find(key);
  return it == object.end() ? null_value : *it;
}

// A scalar as table text; "-" when absent, null or empty.
std::string cell_text(const Json& value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    return text.empty() ? std::string(kDash) : text;
  }
  if (value.is_number_integer()) return value.dump();
  if (value.is_number_float()) return std::to_string(static_cast<std::int64_t>(std::floor(value.get<double>())));
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  return std::string(kDash);
}

Cell state_cell(const Json& entry) {
  std::string state = cell_text(member(entry, "state"));
  Cell cell{state, state_colour(state)};
  return cell;
}

std::string uptime_text(const Json& value) {
  if (!value.is_number()) return std::string(kDash);
  return format_uptime(value.get<double>());
}

const Json& as_array(const Json& instances) {
  static const Json empty = Json::array();
  return instances.is_array() ? instances : empty;
}

}  // namespace

std::string format_uptime(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const auto total = static_cast<std::int64_t>(std::floor(seconds));
  char text[48];
  if (total < 60) {
    std::snprintf(text, sizeof text, "%llds", static_cast<long long>(total));
  } else if (total < 3600) {
    std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  } else if (total < 86400) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(total / 3600),
                  static_cast<long long>(total % 3600 / 60));
  } else {
    std::snprintf(text, sizeof text, "%lldd%02lldh", static_cast<long long>(total / 86400),
                  static_cast<long long>(total % 86400 / 3600));
  }
  return text;
}

std::string_view state_colour(std::string_view state) {
  if (state == "running" || state == "done") return kGreen;
  if (state == "starting" || state == "stopping" || state == "backoff") return kYellow;
  if (state == "failed") return kRed;
  return {};
}

std::string render_table(const std::vector<std::string>& headers, const std::vector<std::vector<Cell>>& rows,
                         bool colour) {
  std::vector<std::size_t> widths;
  for (const auto& header : headers) widths.push_back(header.size());
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].text.size());

  std::string out;
  auto emit_row = [&](const std::vector<Cell>& row) {
    std::string line;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const Cell empty;
      const Cell& cell = i < row.size() ? row[i] : empty;
      if (i > 0) line += "  ";
      if (colour && !cell.colour.empty()) {
        line += cell.colour;
        line += cell.text;
        line += kReset;
      } else {
        line += cell.text;
      }
      if (i + 1 < widths.size()) line.append(widths[i] - cell.text.size(), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };

  std::vector<Cell> header_row;
  for (const auto& header : headers) header_row.push_back(Cell{header});
  emit_row(header_row);
  for (const auto& row : rows) emit_row(row);
  return out;
}

std::string render_status_table(const Json& instances, bool colour) {
  std::vector<std::vector<Cell>> rows;
  std::string notes;
  for (const auto& entry : as_array(instances)) {
    rows.push_back({
        Cell{cell_text(member(entry, "name"))},
        state_cell(entry),
        Cell{cell_text(member(entry, "pid"))},
        Cell{uptime_text(member(entry, "uptime"))},
        Cell{cell_text(member(entry, "restarts"))},
        Cell{cell_text(member(entry, "lastExit"))},
    });
    const Json& error = member(entry, "error");
    if (member(entry, "state") == "failed" && error.is_string() && !error.get_ref<const std::string&>().empty())
      notes += cell_text(member(entry, "name")) + " failed: " + error.get<std::string>() + '\n';
    const Json& waiting = member(entry, "waitingFor");
    if (waiting.is_array() && !waiting.empty()) {
      std::string names;
      for (const auto& name : waiting) names += (names.empty() ? "" : ", ") + cell_text(name);
      notes += cell_text(member(entry, "name")) + " is waiting for " + names + '\n';
    }
  }
  return render_table({"NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST-EXIT"}, rows, colour) + notes;
}

const std::vector<std::string>& status_table_members() {
  static const std::vector<std::string> members = {"name",     "state",     "pid",  "uptime",
                                                   "restarts", "lastExit",  "error", "waitingFor"};
  return members;
}

std::string render_list_table(const Json& instances, bool colour) {
  std::vector<std::vector<Cell>> rows;
  for (const auto& entry : as_array(instances)) {
    rows.push_back({
        Cell{cell_text(member(entry, "name"))},
        state_cell(entry),
        Cell{cell_text(member(entry, "autostart"))},
        Cell{cell_text(member(entry, "description"))},
    });
  }
  return render_table({"NAME", "STATE", "AUTOSTART", "DESCRIPTION"}, rows, colour);
}

std::string render_json_result(std::string_view reply_payload) {
  // ordered_json keeps members in the order they were parsed; protocol::Json would sort them.
  auto reply = nlohmann::ordered_json::parse(reply_payload.begin(), reply_payload.end(), nullptr, false);
  nlohmann::ordered_json result = nlohmann::ordered_json::object();
  if (reply.is_object() && reply.contains("result")) result = reply["result"];
  return result.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + '\n';
}

std::vector<std::string> describe_failures(std::string_view verb, const Json& instances) {
  std::vector<std::string> lines;
  for (const auto& entry : as_array(instances)) {
    if (member(entry, "state") != "failed") continue;
    std::string why = "failed";
    for (const char* key : {"error", "lastExit"}) {
      const Json& value = member(entry, key);
      if (value.is_string() && !value.get_ref<const std::string&>().empty()) {
        why = "failed: " + value.get<std::string>();
        break;
      }
    }
    lines.push_back(std::string(verb) + " " + cell_text(member(entry, "name")) + ": " + why);
  }
  return lines;
}

}  // namespace nixpm::client
