#pragma once
// Every tool, one accessor each (defined in tool_<manager>.cpp). Only manager_tool.cpp includes this.

#include "config/managers/manager_tool.hpp"

namespace nixpm::managers {

const ManagerTool& systemd_tool();
const ManagerTool& supervisord_tool();
const ManagerTool& sysvinit_tool();
const ManagerTool& bsdrc_tool();
const ManagerTool& launchd_tool();
const ManagerTool& cygrunsrv_tool();
const ManagerTool& s6_rc_tool();
const ManagerTool& runit_tool();
const ManagerTool& s6_tool();

}  // namespace nixpm::managers
