#include "config/managers/generated_output.hpp"

#include <algorithm>
#include <fstream>

#include <unistd.h>

#include "config/managers/adapter_support.hpp"

namespace nixpm::managers {

GenerateOptions generate_options(const Paths& paths) {
  GenerateOptions options;
  options.scope = paths.mode == Mode::user ? Scope::user : Scope::system;
  options.state_dir = paths.state_dir;
  options.runtime_dir = paths.runtime_dir;
  options.log_dir = paths.log_dir;
  options.tmp_dir = paths.tmp_dir;
  options.lib_dir = paths.lib_dir;
  options.cache_dir = paths.cache_dir;
  return options;
}
namespace fs = std::filesystem;

void write_generated(const Generated& generated, const fs::path& dir) {
  fs::create_directories(dir);
  for (const auto& file : generated.files) {
    const fs::path target = dir / file.path;
    fs::create_directories(target.parent_path());
    if (!file.link_target.empty()) {
      // Replace whatever is there (an earlier link or file), like `ln -sfn`.
      if (fs::is_symlink(target) || fs::exists(target)) fs::remove(target);
      fs::create_symlink(file.link_target, target);
      continue;
    }
    const fs::path temporary = target.string() + ".nixpm-" + std::to_string(getpid());
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out << file.content;
      out.close();
      if (!out) {
        std::error_code ignored;
        fs::remove(temporary, ignored);
        throw fs::filesystem_error("cannot write", temporary, std::make_error_code(std::errc::io_error));
      }
    }
    fs::permissions(temporary, static_cast<fs::perms>(file.mode), fs::perm_options::replace);
    fs::rename(temporary, target);
  }
}

std::string describe_loss(const Loss& loss, std::string_view manager) {
  return loss.instance + ": " + loss.property + ": " + std::string(to_string(loss.support)) + " on " +
         std::string(manager) + ": " + loss.note;
}

namespace {
const PropertySupport* find_row(const ManagerAdapter& manager, std::string_view property) {
  const auto& rows = manager.capabilities();
  const auto found = std::find_if(rows.begin(), rows.end(),
                                  [&](const PropertySupport& row) { return row.property == property; });
  return found == rows.end() ? nullptr : &*found;
}

// A note may hold "|", which would split a Markdown cell, and "<name>", which would read as HTML.
std::string table_cell(std::string_view text) {
  std::string cell;
  for (char c : text) {
    if (c == '|' || c == '<') cell += '\\';
    cell += c;
  }
  return cell;
}
}  // namespace

std::string capability_table_markdown() {
  std::string table = "| property |";
  std::string rule = "|---|";
  for (const auto* manager : all_managers()) {
    table += " " + std::string(manager->name()) + " |";
    rule += "---|";
  }
  table += "\n" + rule + "\n";
  for (const auto& property : support::property_catalogue()) {
    table += "| `" + std::string(property.name) + "` |";
    for (const auto* manager : all_managers()) {
      const auto* row = find_row(*manager, property.name);
      table += " " + std::string(row ? to_string(row->support) : "lost") + " |";
    }
    table += "\n";
  }
  return table;
}

std::string capability_notes_markdown(const ManagerAdapter& manager) {
  std::string table = "| property | " + std::string(manager.name()) + " | how |\n|---|---|---|\n";
  for (const auto& property : support::property_catalogue()) {
    const auto* row = find_row(manager, property.name);
    table += "| `" + std::string(property.name) + "` | " +
             std::string(row ? to_string(row->support) : "lost") + " | " +
             table_cell(row ? row->note : "not declared by this adapter") + " |\n";
  }
  return table;
}

}  // namespace nixpm::managers
