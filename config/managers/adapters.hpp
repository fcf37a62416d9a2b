#pragma once
// Every adapter, one accessor each (defined in <manager>.cpp). Only the registry includes this.

#include "config/managers/manager_adapter.hpp"

namespace nixpm::managers {

const ManagerAdapter& systemd_adapter();
const ManagerAdapter& supervisord_adapter();
const ManagerAdapter& sysvinit_adapter();
const ManagerAdapter& bsdrc_adapter();
const ManagerAdapter& launchd_adapter();
const ManagerAdapter& cygrunsrv_adapter();
const ManagerAdapter& s6_rc_adapter();
const ManagerAdapter& runit_adapter();
const ManagerAdapter& s6_adapter();

}  // namespace nixpm::managers
