#pragma once
// nixpmd --manager M: the control protocol served through a native manager's own tool instead of the
// built-in supervisor. status, list, start, stop, restart and logs answer exactly as CommandHandler's
// do (same members, same error codes), so nixpmctl prints the same tables and exits with the same
// statuses; reload redeploys the current definitions onto M (config/managers/deployment.hpp).
// signal and subscribe have no counterpart in every manager's tool: they are refused as bad requests.
//
// The tools block (supervisorctl waits for startsecs, sv -w for ./check), so every request after the
// handshake runs on one worker thread, in arrival order, and its reply is posted back to the
// io_context. The deployment record is only touched on that thread.

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "config/loader.hpp"
#include "config/managers/deployment.hpp"
#include "config/managers/manager_tool.hpp"
#include "daemon/command_handler.hpp"
#include "daemon/request_handler.hpp"

namespace nixpm::daemon {

class ManagerFrontHandler : public RequestHandler {
 public:
  struct Environment {
    std::string mode_name;  // "user" or "system"
    std::function<void()> request_shutdown;
    std::function<config::LoadResult()> load_definitions;
    std::function<void(const config::LoadResult&)> reload_accepted;  // e.g. persist id assignments
    std::filesystem::path record_path;                               // deployment.json
    managers::GenerateOptions generate_options;
  };

  // `context` names the root, scope and directories, and a runner used only on the worker thread.
  ManagerFrontHandler(boost::asio::io_context& io, const managers::ManagerAdapter& adapter,
                      const managers::ManagerTool& tool, managers::ToolContext context, Environment environment);
  ~ManagerFrontHandler() override;

  void handle(ConnectionState& connection, const protocol::Json& request, Respond respond) override;

  // Deploys `definitions` (on the worker); `done` gets an empty text or what went wrong, on the io_context.
  void deploy(const config::Definitions& definitions, std::function<void(const std::string& problems)> done);
  // Stops and removes the deployment (on the worker); `done` runs on the io_context afterwards.
  void undeploy(std::function<void()> done);
  // SIGHUP: redeploy the current definitions (on the worker), logging the outcome.
  void reload();
  // Refuses further state changes.
  void begin_shutdown() { shutting_down_ = true; }

 private:
  void enqueue(std::function<void()> job);
  void worker_loop();
  void reply_later(const Respond& respond, protocol::Json reply);

  protocol::Json answer(const protocol::Json& id, const std::string& op, const protocol::Json& request);
  // Indices of the named instances (every one for none); the error reply when a name is unknown.
  std::optional<protocol::Json> resolve(const protocol::Json& id, const protocol::Json& request, bool required,
                                        std::vector<std::size_t>& indices) const;
  protocol::Json status_entries(const std::vector<std::size_t>& indices) const;
  protocol::Json change(const protocol::Json& id, const std::string& op, const std::vector<std::size_t>& targets);
  protocol::Json redeploy(const protocol::Json& id);
  std::string deploy_now(const config::Definitions& definitions, managers::DeployChanges* changes);

  boost::asio::io_context& io_;
  const managers::ManagerAdapter& adapter_;
  const managers::ManagerTool& tool_;
  managers::ToolContext context_;
  Environment environment_;
  managers::DeploymentRecord record_;  // worker thread only
  bool shutting_down_ = false;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace nixpm::daemon
