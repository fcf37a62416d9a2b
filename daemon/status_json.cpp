#include "status_json.hpp"

#include <charconv>
#include <string_view>
#include <type_traits>

namespace nixpm::daemon {
using protocol::Json;

namespace {

Json optional_string(const std::string& text) { return text.empty() ? Json(nullptr) : Json(text); }

// The names the definitions use for readiness kinds.
std::string_view readiness_name(config::ReadinessKind kind) {
  switch (kind) {
    case config::ReadinessKind::started: return "started";
    case config::ReadinessKind::pid_file: return "pidFile";
    case config::ReadinessKind::tcp: return "tcp";
    case config::ReadinessKind::command: return "command";
    case config::ReadinessKind::notify: return "notify";
  }
  return "started";
}

void append_string(std::string& out, std::string_view text) {
  // Printable ASCII without quotes or backslashes is its own JSON text, which covers instance names
  // and states; anything else goes through nlohmann's serializer (escapes, invalid UTF-8 replaced),
  // as the DOM's dump would.
  bool plain = true;
  for (const char c : text)
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  if (plain) {
    out += '"';
    out += text;
    out += '"';
  } else {
    out += Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

void append_optional_string(std::string& out, const std::string& text) {
  if (text.empty())
    out += "null";
  else
    append_string(out, text);
}

template <typename Number>
void append_number(std::string& out, Number value) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string_view digits(buffer, error == std::errc() ? static_cast<std::size_t>(end - buffer) : 0);
  out += digits.empty() ? std::string_view("0") : digits;
  // A double stays a float for the reader, as nlohmann writes 3.0 for 3.
  if constexpr (std::is_floating_point_v<Number>)
    if (digits.find_first_of(".eE") == std::string_view::npos) out += ".0";
}

void append_names(std::string& out, const std::vector<std::string>& names) {
  out += '[';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    append_string(out, names[i]);
  }
  out += ']';
}

}  // namespace

Json snapshot_to_json(const InstanceSnapshot& s) {
  // Members are emplaced into the object directly: the braced form builds a two-element array per
  // member first and copies it over.
  Json result(Json::value_t::object);
  auto& object = result.get_ref<Json::object_t&>();
  object.emplace("name", s.name);
  object.emplace("state", std::string(to_string(s.state)));
  object.emplace("pid", s.pid ? Json(*s.pid) : Json(nullptr));
  object.emplace("wanted", s.wanted_up ? "up" : "down");
  object.emplace("since", s.since_unix_seconds);
  object.emplace("uptime", s.uptime_seconds ? Json(*s.uptime_seconds) : Json(nullptr));
  object.emplace("restarts", s.restarts);
  object.emplace("lastExit", optional_string(s.last_exit));
  object.emplace("error", optional_string(s.error));
  object.emplace("description", s.description);
  object.emplace("dependencies", s.dependencies);
  object.emplace("readiness", std::string(readiness_name(s.readiness)));
  object.emplace("ready", is_ready(s.state));
  object.emplace("waitingFor", s.waiting_for);
  return result;
}

namespace {

void append_pid(std::string& out, const InstanceSnapshot& s) {
  if (s.pid)
    append_number(out, *s.pid);
  else
    out += "null";
}

void append_uptime(std::string& out, const InstanceSnapshot& s) {
  if (s.uptime_seconds)
    append_number(out, *s.uptime_seconds);
  else
    out += "null";
}

struct MemberWriter {
  std::string_view name;
  void (*write)(std::string& out, const InstanceSnapshot& s);
};

// In the order of protocol::Json's sorted keys, which is the order the DOM is written in.
constexpr MemberWriter kMembers[kStatusMemberCount] = {
    {"dependencies", [](std::string& out, const InstanceSnapshot& s) { append_names(out, s.dependencies); }},
    {"description", [](std::string& out, const InstanceSnapshot& s) { append_string(out, s.description); }},
    {"error", [](std::string& out, const InstanceSnapshot& s) { append_optional_string(out, s.error); }},
    {"lastExit", [](std::string& out, const InstanceSnapshot& s) { append_optional_string(out, s.last_exit); }},
    {"name", [](std::string& out, const InstanceSnapshot& s) { append_string(out, s.name); }},
    {"pid", append_pid},
    {"readiness", [](std::string& out, const InstanceSnapshot& s) { append_string(out, readiness_name(s.readiness)); }},
    {"ready", [](std::string& out, const InstanceSnapshot& s) { out += is_ready(s.state) ? "true" : "false"; }},
    {"restarts", [](std::string& out, const InstanceSnapshot& s) { append_number(out, s.restarts); }},
    {"since", [](std::string& out, const InstanceSnapshot& s) { append_number(out, s.since_unix_seconds); }},
    {"state", [](std::string& out, const InstanceSnapshot& s) { append_string(out, to_string(s.state)); }},
    {"uptime", append_uptime},
    {"waitingFor", [](std::string& out, const InstanceSnapshot& s) { append_names(out, s.waiting_for); }},
    {"wanted", [](std::string& out, const InstanceSnapshot& s) { out += s.wanted_up ? "\"up\"" : "\"down\""; }},
};

}  // namespace

void append_snapshot_json(std::string& out, const InstanceSnapshot& s, const StatusMembers& members) {
  char separator = '{';
  for (std::size_t i = 0; i < kStatusMemberCount; ++i) {
    if (!members[i]) continue;
    out += separator;
    separator = ',';
    out += '"';
    out += kMembers[i].name;
    out += "\":";
    kMembers[i].write(out, s);
  }
  if (separator == '{') out += '{';
  out += '}';
}

std::optional<StatusMembers> status_members_named(const Json& fields, std::string& error) {
  if (!fields.is_array()) {
    error = "'fields' must be an array of member names";
    return std::nullopt;
  }
  StatusMembers members;
  for (const auto& field : fields) {
    const auto* name = field.is_string() ? field.get_ptr<const std::string*>() : nullptr;
    std::size_t i = 0;
    while (name != nullptr && i < kStatusMemberCount && kMembers[i].name != *name) ++i;
    if (name == nullptr || i == kStatusMemberCount) {
      std::string known;
      for (const auto& member : kMembers) known += (known.empty() ? "" : ", ") + std::string(member.name);
      error = "unknown member " + field.dump() + " in 'fields' (known: " + known + ")";
      return std::nullopt;
    }
    members.set(i);
  }
  return members;
}

}  // namespace nixpm::daemon
