#include "config/managers/ini_document.hpp"

#include <algorithm>

namespace nixpm::managers {

IniDocument::Section& IniDocument::section(std::string_view name) {
  auto found =
      std::find_if(sections_.begin(), sections_.end(), [&](const Section& s) { return s.name == name; });
  if (found != sections_.end()) return *found;
  sections_.push_back(Section{std::string(name), {}});
  return sections_.back();
}

bool IniDocument::has_section(std::string_view name) const {
  return std::any_of(sections_.begin(), sections_.end(), [&](const Section& s) { return s.name == name; });
}

void IniDocument::add(std::string_view section_name, std::string_view key, std::string value) {
  section(section_name).entries.push_back(Entry{std::string(key), std::move(value)});
}

void IniDocument::set(std::string_view section_name, std::string_view key,
                      const std::vector<std::string>& values) {
  if (values.empty() && !has_section(section_name)) return;  // removing from nothing adds no empty section
  auto& entries = section(section_name).entries;
  auto first = std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.key == key; });
  auto position = first - entries.begin();
  if (first == entries.end()) position = static_cast<decltype(position)>(entries.size());
  std::erase_if(entries, [&](const Entry& e) { return e.key == key; });
  std::vector<Entry> replacement;
  for (const auto& value : values) replacement.push_back(Entry{std::string(key), value});
  entries.insert(entries.begin() +
                     std::min<decltype(position)>(position, static_cast<decltype(position)>(entries.size())),
                 replacement.begin(), replacement.end());
}

std::vector<std::string> IniDocument::values(std::string_view section_name, std::string_view key) const {
  std::vector<std::string> found;
  for (const auto& s : sections_)
    if (s.name == section_name)
      for (const auto& entry : s.entries)
        if (entry.key == key) found.push_back(entry.value);
  return found;
}

std::string IniDocument::render(std::string_view separator) const {
  std::string text;
  for (const auto& s : sections_) {
    if (!text.empty()) text += '\n';
    text += "[" + s.name + "]\n";
    for (const auto& entry : s.entries) text += entry.key + std::string(separator) + entry.value + '\n';
  }
  return text;
}

}  // namespace nixpm::managers
