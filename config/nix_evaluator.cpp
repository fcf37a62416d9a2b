#include "config/nix_evaluator.hpp"

// Runs nix-instantiate through run_tool (common/tool_runner.hpp): no shell, both outputs collected, a
// deadline. It waits on its child's own pid, which is safe because nixpmctl never has a reaper and nixpmd
// evaluates its definitions before the supervisor and its reaper exist (a reload waits the same way,
// on the loop, blocking it for at most the timeout).
//
// Environment: the child inherits ours unchanged. With `--store dummy://` nix-instantiate needs no
// /nix, no daemon and no writable HOME; it was checked as root without /nix and as an unprivileged
// user with HOME=/nonexistent and with an empty environment.

#include <chrono>
#include <cstdlib>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/tool_runner.hpp"

namespace nixpm::config {
namespace {

constexpr std::string_view kProgram = "nix-instantiate";
constexpr auto kTimeout = std::chrono::seconds(60);
constexpr std::size_t kMaxOutput = 64 * 1024 * 1024;  // a runaway evaluation is stopped here

// Where `import <nixpm>` points: $NIXPM_NIX_LIBRARY, else <prefix>/share/nixpm/nix next to the binary.
std::optional<std::filesystem::path> nix_library_dir() {
  if (const char* dir = std::getenv("NIXPM_NIX_LIBRARY"); dir != nullptr && *dir != '\0') return dir;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  const auto installed = exe.parent_path().parent_path() / "share" / "nixpm" / "nix";
  if (std::filesystem::exists(installed / "default.nix", ec)) return installed;
  return std::nullopt;
}

}  // namespace

bool nix_available() { return find_program_on_path(kProgram).has_value(); }

NixEvaluation evaluate_nix_file(const std::filesystem::path& file, const DirectoryVariables& dirs,
                                bool force_disable_user_change) {
  NixEvaluation result;
  const auto program = find_program_on_path(kProgram);
  if (!program) {
    result.error =
        "cannot evaluate a .nix file: nix-instantiate is not on PATH (on Debian: apt-get install "
        "--no-install-recommends nix-bin)";
    return result;
  }
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(file, ec);
  std::vector<std::string> args = {std::string(kProgram), "--eval", "--strict", "--json", "--store", "dummy://"};
  if (const auto library = nix_library_dir()) {
    args.insert(args.end(), {"-I", "nixpm=" + library->string()});
  }
  args.push_back(ec ? file.string() : absolute.string());
  const std::pair<const char*, const std::string*> directories[] = {
      {"stateDir", &dirs.state_dir}, {"runtimeDir", &dirs.runtime_dir}, {"logDir", &dirs.log_dir},
      {"tmpDir", &dirs.tmp_dir},     {"cacheDir", &dirs.cache_dir},
  };
  for (const auto& [name, value] : directories) args.insert(args.end(), {"--argstr", name, *value});
  args.insert(args.end(), {"--arg", "forceDisableUserChange", force_disable_user_change ? "true" : "false"});

  ToolRequest request;
  request.program = *program;
  request.argv = std::move(args);
  request.timeout = kTimeout;
  request.max_output = kMaxOutput;
  auto run = run_tool(request);
  if (!run.error.empty()) {
    result.error = std::move(run.error);
  } else if (run.exited_zero()) {
    result.json = std::move(run.out);
  } else {
    // Nix's message is passed on as it is (it names file:line); only trailing newlines go.
    auto& text = run.err;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    result.error = text.empty() ? "nix-instantiate " + run.status_text() : text;
  }
  return result;
}

}  // namespace nixpm::config
