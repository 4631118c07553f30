#include "actors/metrics/registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace cb::metrics {

family_base::family_base(std::mutex& mutex, std::string name, std::string help, metric_type type,
                         std::vector<std::string> label_names)
    : mutex_(mutex),
      name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

void family_base::check_arity(const std::vector<std::string>& label_values) const {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + ": " + std::to_string(label_names_.size()) +
                                " label values expected, " + std::to_string(label_values.size()) +
                                " given");
  }
}

registry& registry::process() {
  static registry instance;
  return instance;
}

template <class Cell>
family<Cell>& registry::get_or_add(const std::string& name, const std::string& help,
                                   metric_type type, const std::vector<std::string>& label_names,
                                   const bucket_layout* layout) {
  if (!prometheus::is_valid_metric_name(name)) {
    throw std::invalid_argument("invalid metric name: " + name);
  }
  for (const auto& l : label_names) {
    if (!prometheus::is_valid_label_name(l) || (type == metric_type::histogram && l == "le")) {
      std::string message = "metric " + name;
      message += ": invalid label name: ";
      message += l;
      throw std::invalid_argument(message);
    }
  }
  const std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& e : families_) {
    if (e.family->name() != name) continue;
    auto* existing = dynamic_cast<family<Cell>*>(e.family.get());
    if (existing == nullptr || e.family->type() != type || e.family->label_names() != label_names ||
        e.layout != layout) {
      throw std::logic_error("metric " + name + " registered twice with different shapes");
    }
    return *existing;
  }
  auto created = std::make_unique<family<Cell>>(mutex_, name, help, type, label_names, layout);
  auto& result = *created;
  families_.push_back({std::move(created), layout});
  return result;
}

counter_family& registry::counters(const std::string& name, const std::string& help,
                                   const std::vector<std::string>& label_names) {
  return get_or_add<striped_counter>(name, help, metric_type::counter, label_names, nullptr);
}

gauge_family& registry::gauges(const std::string& name, const std::string& help,
                               const std::vector<std::string>& label_names) {
  return get_or_add<gauge>(name, help, metric_type::gauge, label_names, nullptr);
}

histogram_family& registry::histograms(const std::string& name, const std::string& help,
                                       const bucket_layout& layout,
                                       const std::vector<std::string>& label_names) {
  if (layout.size > max_buckets) {
    throw std::invalid_argument("metric " + name + ": more than max_buckets buckets");
  }
  return get_or_add<striped_histogram>(name, help, metric_type::histogram, label_names, &layout);
}

std::vector<family_snapshot> registry::collect() const {
  std::vector<family_snapshot> out;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    out.reserve(families_.size());
    for (const auto& e : families_) {
      family_snapshot snap;
      snap.name = e.family->name();
      snap.help = e.family->help_;
      snap.type = e.family->type();
      snap.label_names = e.family->label_names();
      e.family->collect_series(snap.series);
      out.push_back(std::move(snap));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const family_snapshot& a, const family_snapshot& b) { return a.name < b.name; });
  for (auto& f : out) {
    std::sort(f.series.begin(), f.series.end(),
              [](const series_snapshot& a, const series_snapshot& b) {
                return a.label_values < b.label_values;
              });
  }
  return out;
}

}  // namespace cb::metrics
