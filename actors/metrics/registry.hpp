// Named metric families, Prometheus style: a family is a name, a help text, a type and label
// names; each series in it is one combination of label values. Families and series are created at
// start-up or when a new label value first appears (an actor kind's first spawn): only then does
// the registry lock and allocate. Recording goes straight to the cell a caller keeps a reference
// to, so it never touches the registry. collect() reads every series from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "actors/metrics/primitives.hpp"
#include "protocol/prometheus.hpp"

namespace cb::metrics {

using metric_type = prometheus::metric_type;

struct series_snapshot {
  std::vector<std::string> label_values;
  double value = 0;              // counters and gauges
  histogram_snapshot histogram;  // histograms
};

struct family_snapshot {
  std::string name;
  std::string help;
  metric_type type = metric_type::untyped;
  std::vector<std::string> label_names;
  std::vector<series_snapshot> series;  // sorted by label values
};

class registry;

class family_base {
 public:
  family_base(const family_base&) = delete;
  family_base& operator=(const family_base&) = delete;
  family_base(family_base&&) = delete;
  family_base& operator=(family_base&&) = delete;
  virtual ~family_base() = default;

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] metric_type type() const noexcept { return type_; }
  [[nodiscard]] const std::vector<std::string>& label_names() const noexcept {
    return label_names_;
  }

 protected:
  family_base(std::mutex& mutex, std::string name, std::string help, metric_type type,
              std::vector<std::string> label_names);

  // Throws std::invalid_argument unless there is one value per label name.
  void check_arity(const std::vector<std::string>& label_values) const;

  std::mutex& mutex_;

 private:
  friend class registry;
  virtual void collect_series(std::vector<series_snapshot>& out) const = 0;

  std::string name_;
  std::string help_;
  metric_type type_;
  std::vector<std::string> label_names_;
};

// A family of Cell (striped_counter, gauge or striped_histogram). with() finds or creates the
// series for some label values and returns its cell, which lives as long as the registry.
template <class Cell>
class family final : public family_base {
 public:
  family(std::mutex& mutex, std::string name, std::string help, metric_type type,
         std::vector<std::string> label_names, const bucket_layout* layout)
      : family_base(mutex, std::move(name), std::move(help), type, std::move(label_names)),
        layout_(layout) {}

  Cell& with(const std::vector<std::string>& label_values = {}) {
    check_arity(label_values);
    const std::lock_guard<std::mutex> lock(mutex_);
    for (auto& s : series_) {
      if (s.label_values == label_values && s.cell) return *s.cell;
    }
    auto cell = make_cell();
    auto& created = *cell;
    series_.push_back(series{label_values, std::move(cell), {}});
    return created;
  }

  // A counter or gauge series whose value is read at collection time (a counter derived from a
  // histogram's count, a value another component owns). `read` runs under the registry's lock:
  // keep it to loads. Label values already in use are a programming error (std::logic_error).
  void computed(const std::vector<std::string>& label_values, std::function<double()> read) {
    static_assert(!std::is_same_v<Cell, striped_histogram>, "histogram series are recorded");
    check_arity(label_values);
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& s : series_) {
      if (s.label_values == label_values) {
        throw std::logic_error("metric " + name() + ": series registered twice");
      }
    }
    series_.push_back({label_values, nullptr, std::move(read)});
  }

 private:
  struct series {
    std::vector<std::string> label_values;
    std::unique_ptr<Cell> cell;
    std::function<double()> computed;
  };

  std::unique_ptr<Cell> make_cell() const {
    if constexpr (std::is_constructible_v<Cell, const bucket_layout&>) {
      return std::make_unique<Cell>(*layout_);
    } else {
      return std::make_unique<Cell>();
    }
  }

  void collect_series(std::vector<series_snapshot>& out) const override {
    for (const auto& s : series_) {
      series_snapshot snap;
      snap.label_values = s.label_values;
      if (!s.cell) {
        snap.value = s.computed();
      } else if constexpr (std::is_same_v<Cell, striped_histogram>) {
        snap.histogram = s.cell->read();
      } else {
        snap.value = static_cast<double>(s.cell->value());
      }
      out.push_back(std::move(snap));
    }
  }

  const bucket_layout* layout_;
  std::vector<series> series_;
};

using counter_family = family<striped_counter>;
using gauge_family = family<gauge>;
using histogram_family = family<striped_histogram>;

class registry {
 public:
  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;
  registry(registry&&) = delete;
  registry& operator=(registry&&) = delete;
  ~registry() = default;

  // The process-wide registry that the bridge's instrumentation records into.
  static registry& process();

  // Each returns the family of that name, creating it on first use. Asking again for a name with
  // another type, other label names or another layout is a programming error: std::logic_error,
  // as are invalid metric or label names (std::invalid_argument).
  counter_family& counters(const std::string& name, const std::string& help,
                           const std::vector<std::string>& label_names = {});
  gauge_family& gauges(const std::string& name, const std::string& help,
                       const std::vector<std::string>& label_names = {});
  histogram_family& histograms(const std::string& name, const std::string& help,
                               const bucket_layout& layout,
                               const std::vector<std::string>& label_names = {});

  // Every family sorted by name, every series sorted by label values.
  [[nodiscard]] std::vector<family_snapshot> collect() const;

 private:
  template <class Cell>
  family<Cell>& get_or_add(const std::string& name, const std::string& help, metric_type type,
                           const std::vector<std::string>& label_names,
                           const bucket_layout* layout);

  mutable std::mutex mutex_;
  struct entry {
    std::unique_ptr<family_base> family;
    const bucket_layout* layout;
  };
  std::vector<entry> families_;
};

}  // namespace cb::metrics
