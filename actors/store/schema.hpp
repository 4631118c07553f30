// The call store's schema as numbered migrations, one DDL text for SQLite and MariaDB alike.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "actors/store/backend.hpp"

namespace cb::store {

struct migration {
  std::int64_t version = 0;
  std::vector<std::string_view> statements;
};

// In version order, without gaps from 1.
[[nodiscard]] const std::vector<migration>& migrations();
[[nodiscard]] std::int64_t latest_schema_version();

// Creates schema_version when missing and applies every migration newer than the version stored
// there, each with its schema_version row in one transaction. A database newer than this build is
// an error (nothing is written to it).
std::optional<db_error> migrate(store_backend& db);

// The highest version in schema_version; 0 for a database without migrations.
[[nodiscard]] expected<std::int64_t, db_error> stored_schema_version(store_backend& db);

}  // namespace cb::store
