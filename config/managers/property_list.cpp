#include "config/managers/property_list.hpp"

#include <nlohmann/json.hpp>

#include "config/managers/manager_adapter.hpp"

namespace nixpm::managers::plist {
namespace {

// XML 1.0 holds no control characters but tab and newline (a carriage return would come back as a
// newline); those are escaped or refused.
std::string escaped(std::string_view text, std::string_view what) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        if (byte < 0x20 && c != '\t' && c != '\n')
          throw GenerateError(std::string(what) + ": a property list cannot hold the control character " +
                              std::to_string(byte) + " in '" + std::string(text) + "'");
        out += c;
    }
  }
  return out;
}

void write(std::string& out, const nlohmann::ordered_json& value, int depth, std::string_view what) {
  const std::string indent(static_cast<std::size_t>(depth), '\t');
  switch (value.type()) {
    case nlohmann::ordered_json::value_t::object:
      if (value.empty()) {
        out += indent + "<dict/>\n";
        return;
      }
      out += indent + "<dict>\n";
      for (const auto& [key, item] : value.items()) {
        out += indent + "\t<key>" + escaped(key, what) + "</key>\n";
        write(out, item, depth + 1, what);
      }
      out += indent + "</dict>\n";
      return;
    case nlohmann::ordered_json::value_t::array:
      if (value.empty()) {
        out += indent + "<array/>\n";
        return;
      }
      out += indent + "<array>\n";
      for (const auto& item : value) write(out, item, depth + 1, what);
      out += indent + "</array>\n";
      return;
    case nlohmann::ordered_json::value_t::string:
      out += indent + "<string>" + escaped(value.get<std::string>(), what) + "</string>\n";
      return;
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned:
      out += indent + "<integer>" + value.dump() + "</integer>\n";
      return;
    case nlohmann::ordered_json::value_t::number_float:
      out += indent + "<real>" + value.dump() + "</real>\n";
      return;
    case nlohmann::ordered_json::value_t::boolean:
      out += indent + (value.get<bool>() ? "<true/>\n" : "<false/>\n");
      return;
    default:
      throw GenerateError(std::string(what) + ": a property list has no null (remove the key instead)");
  }
}

}  // namespace

std::string document(const nlohmann::ordered_json& value, std::string_view what) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
      "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
      "<plist version=\"1.0\">\n";
  write(out, value, 0, what);
  return out + "</plist>\n";
}

void merge(nlohmann::ordered_json& target, const nlohmann::json& overrides) {
  for (const auto& [key, value] : overrides.items()) {
    if (value.is_null()) {
      target.erase(key);
    } else if (value.is_object() && target.contains(key) && target[key].is_object()) {
      merge(target[key], value);
    } else {
      target[key] = nlohmann::ordered_json::parse(value.dump());
    }
  }
}

}  // namespace nixpm::managers::plist
