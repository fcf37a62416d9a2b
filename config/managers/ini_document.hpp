#pragma once
// The INI-like files systemd units and supervisord configurations are: named sections, each an ordered
// list of `key=value` lines where a key may repeat (systemd's ExecStartPre=, Environment=). Adapters build
// one, merge `overrides.<manager>` into it, and render it; ordering stays as built so output is stable.

#include <string>
#include <string_view>
#include <vector>

namespace nixpm::managers {

class IniDocument {
 public:
  // Appends a line to the section (created at the end when new).
  void add(std::string_view section, std::string_view key, std::string value);
  // Replaces every line of `key` in the section by these values, at the place of the first one (at the
  // end of the section when there was none). No values: removes the key.
  void set(std::string_view section, std::string_view key, const std::vector<std::string>& values);
  // The values of `key` in the section, in order.
  std::vector<std::string> values(std::string_view section, std::string_view key) const;
  bool has_section(std::string_view section) const;

  // `[section]` headers, `key=value` lines, one blank line between sections. `separator` goes between
  // key and value ("=" for systemd, " = " reads better in supervisord files).
  std::string render(std::string_view separator = "=") const;

 private:
  struct Entry {
    std::string key;
    std::string value;
  };
  struct Section {
    std::string name;
    std::vector<Entry> entries;
  };
  Section& section(std::string_view name);
  std::vector<Section> sections_;
};

}  // namespace nixpm::managers
