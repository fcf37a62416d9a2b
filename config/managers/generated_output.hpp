#pragma once
// What `nixpmctl generate` (and a later `deploy`) do with an adapter's result: write it to a directory,
// and describe its losses and the capability tables in words. Kept apart from the adapters, which stay
// pure.

#include <filesystem>
#include <string>
#include <string_view>

#include "common/paths.hpp"
#include "config/managers/manager_adapter.hpp"

namespace nixpm::managers {

// The options that make generated configuration use the directories nixpmd uses with these paths
// (state, runtime, log, tmp, lib, cache), in the scope of their mode.
GenerateOptions generate_options(const Paths& paths);

// Writes every file under `dir` (created when missing), each through a temporary file and a rename, with
// its mode; links are (re)created as symbolic links. Files already there that the result does not name are
// left alone. Throws std::filesystem::filesystem_error (naming the path) when something cannot be written.
void write_generated(const Generated& generated, const std::filesystem::path& dir);

// "nginx: umask: lost on launchd: <note>", the loss report's line.
std::string describe_loss(const Loss& loss, std::string_view manager);

// The property x manager table of docs/managers.md, in Markdown: one row per catalogue property, one
// column per registered manager, each cell supported, emulated or lost.
std::string capability_table_markdown();
// One manager's rows with their notes: | property | support | how |.
std::string capability_notes_markdown(const ManagerAdapter& manager);

}  // namespace nixpm::managers
