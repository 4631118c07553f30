#include "protocol/elevenlabs_json_object.hpp"

#include "protocol/elevenlabs_json.hpp"

namespace cb::elevenlabs {

expected<json_object, parse_error> json_object::parse(std::string_view text) {
  std::string buffer = detail::padded_copy(text);
  detail::parsed_document document;
  if (auto error = document.parse_object_in_place(buffer)) return unexpected{std::move(*error)};
  return detail::json_object_access::from_value(document.root());
}

std::optional<json_scalar> json_object::scalar(std::string_view key) const {
  std::string buffer = detail::padded_copy(text_);
  detail::parsed_document document;
  if (document.parse_object_in_place(buffer)) return std::nullopt;
  const detail::json_value& object = document.root();
  const auto member = object.FindMember(detail::json_value(
      rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size()))));
  if (member == object.MemberEnd()) return std::nullopt;
  return detail::to_scalar(member->value);
}

std::map<std::string, json_scalar> json_object::scalars() const {
  std::map<std::string, json_scalar> out;
  std::string buffer = detail::padded_copy(text_);
  detail::parsed_document document;
  if (document.parse_object_in_place(buffer)) return out;
  for (const auto& member : document.root().GetObject()) {
    auto value = detail::to_scalar(member.value);
    if (!value) continue;
    out.emplace(std::string(member.name.GetString(), member.name.GetStringLength()),
                std::move(*value));
  }
  return out;
}

}  // namespace cb::elevenlabs
