// The dashboard's files (index.html, dashboard.js, dashboard.css in this directory), compiled into
// the executable so that the control API serves them with nothing installed beside it. The source
// is generated at build time by embed_assets.cmake; docs/dashboard.md says what the page shows.
#pragma once

#include <vector>

#include "actors/control/control_api.hpp"

namespace cb {

// The table for control_api_handles::assets: each file at "/<name>" with its content type.
[[nodiscard]] std::vector<static_asset> dashboard_assets();

}  // namespace cb
