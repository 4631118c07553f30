#include "protocol/elevenlabs_json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <rapidjson/stream.h>

#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

#include "codecs/base64.hpp"

namespace cb::elevenlabs::detail {
namespace {

// In place and numbers as text: the only reader mode that never pushes onto RapidJSON's internal
// stack (see the header).
constexpr unsigned parse_flags = rapidjson::kParseInsituFlag |
                                 rapidjson::kParseValidateEncodingFlag |
                                 rapidjson::kParseNumbersAsStringsFlag;

// Integers that fit int64 or uint64 stay integers (so event ids are exact); everything else is the
// correctly rounded double. Out of double range is refused.
bool to_number(std::string_view text, json_value& out) {
  const char* first = text.data();
  const char* last = first + text.size();
  if (text.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t i = 0;
    if (const auto r = std::from_chars(first, last, i); r.ec == std::errc{} && r.ptr == last) {
      out.SetInt64(i);
      return true;
    }
    std::uint64_t u = 0;
    if (const auto r = std::from_chars(first, last, u); r.ec == std::errc{} && r.ptr == last) {
      out.SetUint64(u);
      return true;
    }
  }
  double d = 0;
  const auto r = std::from_chars(first, last, d);
  if (r.ec != std::errc{} || r.ptr != last || !std::isfinite(d)) return false;
  out.SetDouble(d);
  return true;
}

// RapidJSON decodes an escaped low surrogate that follows no high surrogate ("\udc00") into the
// bytes ED B0..BF xx, which are not UTF-8 and which its own validation then refuses on the way
// back in. Raw input cannot contain them (validation rejects it), so finding one means the escape.
bool has_lone_surrogate(std::string_view s) {
  for (std::size_t i = s.find('\xED'); i != std::string_view::npos; i = s.find('\xED', i + 1)) {
    if (i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0xA0) return true;
  }
  return false;
}

// SAX handler that builds the DOM. Containers under construction sit in `open_`, one per level,
// and move into their parent when they close, so no value is moved while a child refers to it.
// Strings are references into the in-place buffer.
class dom_builder {
 public:
  explicit dom_builder(pool_allocator& allocator) : allocator_(allocator) {}

  // Why the builder stopped the reader, if it did.
  [[nodiscard]] const std::string& refusal() const { return refusal_; }
  json_value& root() { return root_; }

  bool Null() { return add(json_value()); }
  bool Bool(bool b) { return add(json_value(b)); }
  // The number flag delivers every number through RawNumber; the reader's interface still
  // requires these.
  bool Int(int i) { return add(json_value(i)); }
  bool Uint(unsigned u) { return add(json_value(u)); }
  bool Int64(std::int64_t i) { return add(json_value(i)); }
  bool Uint64(std::uint64_t u) { return add(json_value(u)); }
  bool Double(double d) { return add(json_value(d)); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    json_value v;
    if (!to_number(std::string_view(s, n), v)) return refuse("number out of range");
    return add(std::move(v));
  }
  bool String(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    if (has_lone_surrogate(std::string_view(s, n))) return refuse("lone UTF-16 surrogate escape");
    return add(json_value(rapidjson::StringRef(s, n)));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    if (has_lone_surrogate(std::string_view(s, n))) return refuse("lone UTF-16 surrogate escape");
    open_[depth_ - 1].key = json_value(rapidjson::StringRef(s, n));
    return true;
  }
  bool StartObject() { return open(rapidjson::kObjectType); }
  bool EndObject(rapidjson::SizeType /*members*/) { return close(); }
  bool StartArray() { return open(rapidjson::kArrayType); }
  bool EndArray(rapidjson::SizeType /*elements*/) { return close(); }

 private:
  struct container {
    json_value value;
    json_value key;  // the pending member name while `value` is an object
  };

  bool open(rapidjson::Type type) {
    if (depth_ == max_json_depth) {
      return refuse("nested deeper than " + std::to_string(max_json_depth) + " levels");
    }
    open_[depth_++].value = json_value(type);
    return true;
  }

  bool refuse(std::string reason) {
    refusal_ = std::move(reason);
    return false;
  }

  bool close() {
    json_value done(std::move(open_[--depth_].value));
    return add(std::move(done));
  }

  bool add(json_value&& v) {
    if (depth_ == 0) {
      root_ = std::move(v);
      return true;
    }
    container& parent = open_[depth_ - 1];
    if (parent.value.IsObject()) {
      parent.value.AddMember(parent.key, v, allocator_);
    } else {
      parent.value.PushBack(v, allocator_);
    }
    return true;
  }

  pool_allocator& allocator_;
  std::array<container, max_json_depth> open_{};
  unsigned depth_ = 0;
  json_value root_;
  std::string refusal_;
};

std::string dotted(const json_path* path, std::string_view leaf) {
  std::vector<std::string_view> names{leaf};
  for (; path != nullptr; path = path->parent) {
    if (!path->name.empty()) names.push_back(path->name);
  }
  std::string text;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    if (!text.empty()) text += '.';
    text += *it;
  }
  return text;
}

std::string element_key(std::string_view key, std::size_t index) {
  std::string text(key);
  text += '[';
  text += std::to_string(index);
  text += ']';
  return text;
}

rapidjson::SizeType json_size(std::size_t n) {
  return static_cast<rapidjson::SizeType>(n);
}

// Where a large frame spills once the in-object arena is full.
constexpr std::size_t heap_chunk_bytes = std::size_t{64} * 1024;

}  // namespace

std::string padded_copy(std::string_view json) {
  std::string buffer;
  buffer.reserve(json.size() + in_place_padding);
  buffer.assign(json);
  return buffer;
}

parsed_document::parsed_document()
    : values_(arena_.data(), arena_.size(), heap_chunk_bytes, &heap_) {}

std::optional<parse_error> parsed_document::parse_object_in_place(std::string& json_buffer) {
  // The in-place reader stops at the first NUL as if the text ended there, which would let
  // trailing bytes through unchecked; JSON text never contains a raw NUL.
  if (const auto nul = json_buffer.find('\0'); nul != std::string::npos) {
    return parse_error{
        parse_error_code::malformed_json, {}, "NUL byte at offset " + std::to_string(nul)};
  }
  // RapidJSON's UTF-8 validation takes a multi-byte sequence's continuation bytes without looking
  // for the end, so a lead byte at the very end reads up to three bytes past it; padding with NULs
  // keeps those reads (and the in-place writes that trail them) inside the buffer.
  json_buffer.append(in_place_padding, '\0');
  rapidjson::InsituStringStream stream(json_buffer.data());
  dom_builder builder(values_);
  rapidjson::Reader reader;
  const rapidjson::ParseResult result = reader.Parse<parse_flags>(stream, builder);
  if (result.IsError()) {
    const std::string reason = builder.refusal().empty()
                                   ? std::string(rapidjson::GetParseError_En(result.Code()))
                                   : builder.refusal();
    return parse_error{parse_error_code::malformed_json,
                       {},
                       reason + " (offset " + std::to_string(result.Offset()) + ")"};
  }
  if (!builder.root().IsObject()) {
    return parse_error{parse_error_code::not_an_object, {}, "the top level is not an object"};
  }
  root_ = std::move(builder.root());
  return std::nullopt;
}

void field_reader::fail(parse_error_code code, std::string_view key, std::string detail) {
  if (!ok()) return;
  *error_ = parse_error{code, dotted(&path_, key), std::move(detail)};
}

const json_value* field_reader::find(std::string_view key) const {
  const json_value name(rapidjson::StringRef(key.data(), json_size(key.size())));
  const auto member = object_->FindMember(name);
  return member == object_->MemberEnd() ? nullptr : &member->value;
}

const json_value* field_reader::require(std::string_view key, bool (json_value::*is_type)() const,
                                        const char* expected) {
  if (!ok()) return nullptr;
  const json_value* member = find(key);
  if (member == nullptr) {
    fail(parse_error_code::missing_field, key, "required member is absent");
    return nullptr;
  }
  if (!(member->*is_type)()) {
    fail(parse_error_code::wrong_type, key, std::string("expected ") + expected);
    return nullptr;
  }
  return member;
}

void field_reader::read(std::string_view key, std::string& out) {
  if (const auto* v = require(key, &json_value::IsString, "a string")) {
    out.assign(v->GetString(), v->GetStringLength());
  }
}

void field_reader::read(std::string_view key, std::string_view& out) {
  if (const auto* v = require(key, &json_value::IsString, "a string")) {
    out = std::string_view(v->GetString(), v->GetStringLength());
  }
}

void field_reader::read(std::string_view key, std::int64_t& out) {
  if (const auto* v = require(key, &json_value::IsInt64, "an integer (64-bit)")) {
    out = v->GetInt64();
  }
}

void field_reader::read(std::string_view key, double& out) {
  if (const auto* v = require(key, &json_value::IsNumber, "a number")) out = v->GetDouble();
}

void field_reader::read(std::string_view key, bool& out) {
  if (const auto* v = require(key, &json_value::IsBool, "a boolean")) out = v->GetBool();
}

void field_reader::read(std::string_view key, json_object& out) {
  if (const auto* v = require(key, &json_value::IsObject, "an object")) {
    out = json_object_access::from_value(*v);
  }
}

void field_reader::read(std::string_view key, std::vector<std::string>& out) {
  const auto* v = require(key, &json_value::IsArray, "an array of strings");
  if (v == nullptr) return;
  out.resize(v->Size());
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    const json_value& element = (*v)[i];
    if (!element.IsString()) {
      fail(parse_error_code::wrong_type, element_key(key, i), "expected a string");
      return;
    }
    out[i].assign(element.GetString(), element.GetStringLength());
  }
}

void field_reader::read(std::string_view key, std::vector<double>& out) {
  const auto* v = require(key, &json_value::IsArray, "an array of numbers");
  if (v == nullptr) return;
  out.resize(v->Size());
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    const json_value& element = (*v)[i];
    if (!element.IsNumber()) {
      fail(parse_error_code::wrong_type, element_key(key, i), "expected a number");
      return;
    }
    out[i] = element.GetDouble();
  }
}

void field_reader::read_base64(std::string_view key, std::vector<std::uint8_t>& out) {
  std::string_view text;
  read(key, text);
  if (!ok()) return;
  if (const auto decoded = codecs::base64::decode(text, out); !decoded) {
    fail(parse_error_code::invalid_value, key, codecs::base64::to_string(decoded.error()));
  }
}

std::optional<field_reader> field_reader::child(std::string_view key, presence p) {
  if (!ok()) return std::nullopt;
  if (p == presence::optional) {
    const json_value* member = find(key);
    if (member == nullptr || member->IsNull()) return std::nullopt;
  }
  const auto* v = require(key, &json_value::IsObject, "an object");
  if (v == nullptr) return std::nullopt;
  return field_reader(*v, path_, key, *error_);
}

void json_writer::separate() {
  if (needs_comma_) *out_ += ',';
}

json_writer& json_writer::begin_object() {
  separate();
  *out_ += '{';
  needs_comma_ = false;
  return *this;
}

json_writer& json_writer::end_object() {
  *out_ += '}';
  needs_comma_ = true;
  return *this;
}

json_writer& json_writer::begin_array() {
  separate();
  *out_ += '[';
  needs_comma_ = false;
  return *this;
}

json_writer& json_writer::end_array() {
  *out_ += ']';
  needs_comma_ = true;
  return *this;
}

json_writer& json_writer::key(std::string_view k) {
  separate();
  escaped(k);
  *out_ += ':';
  needs_comma_ = false;
  return *this;
}

void json_writer::escaped(std::string_view s) {
  constexpr std::string_view hex = "0123456789ABCDEF";
  *out_ += '"';
  std::size_t plain_from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out_->append(s, plain_from, i - plain_from);
    plain_from = i + 1;
    switch (c) {
      case '"':
        *out_ += "\\\"";
        break;
      case '\\':
        *out_ += "\\\\";
        break;
      case '\b':
        *out_ += "\\b";
        break;
      case '\f':
        *out_ += "\\f";
        break;
      case '\n':
        *out_ += "\\n";
        break;
      case '\r':
        *out_ += "\\r";
        break;
      case '\t':
        *out_ += "\\t";
        break;
      default:
        *out_ += "\\u00";
        *out_ += hex[c >> 4U];
        *out_ += hex[c & 0xFU];
    }
  }
  *out_ += s.substr(plain_from);
  *out_ += '"';
}

json_writer& json_writer::string(std::string_view s) {
  separate();
  escaped(s);
  needs_comma_ = true;
  return *this;
}

json_writer& json_writer::integer(std::int64_t i) {
  separate();
  std::array<char, 24> text{};
  auto* const end = std::to_chars(text.data(), text.data() + text.size(), i).ptr;
  out_->append(text.data(), end);
  needs_comma_ = true;
  return *this;
}

json_writer& json_writer::unsigned_integer(std::uint64_t u) {
  separate();
  std::array<char, 24> text{};
  auto* const end = std::to_chars(text.data(), text.data() + text.size(), u).ptr;
  out_->append(text.data(), end);
  needs_comma_ = true;
  return *this;
}

json_writer& json_writer::number(double d) {
  // Below 2^53 every integral double is exact as an int64, so the text reads back to the same
  // value.
  constexpr double exact_integer_limit = 9007199254740992.0;
  if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < exact_integer_limit) {
    return integer(static_cast<std::int64_t>(d));
  }
  return floating(d);
}

json_writer& json_writer::floating(double d) {
  if (!std::isfinite(d)) return null();
  separate();
  // Shortest text that reads back to the same double; it never looks like an integer.
  std::array<char, 32> text{};
  auto* const end = std::to_chars(text.data(), text.data() + text.size(), d).ptr;
  const std::string_view shortest(text.data(), static_cast<std::size_t>(end - text.data()));
  *out_ += shortest;
  if (shortest.find_first_of(".e") == std::string_view::npos) *out_ += ".0";
  needs_comma_ = true;
  return *this;
}

json_writer& json_writer::boolean(bool b) {
  separate();
  *out_ += b ? "true" : "false";
  needs_comma_ = true;
  return *this;
}

json_writer& json_writer::null() {
  separate();
  *out_ += "null";
  needs_comma_ = true;
  return *this;
}

json_writer& json_writer::raw(const json_object& object) {
  separate();
  *out_ += object.text();
  needs_comma_ = true;
  return *this;
}

// Recursion is bounded: every DOM comes from the parser, which refuses nesting beyond
// max_json_depth.
json_writer& json_writer::value(const json_value& v) {  // NOLINT(misc-no-recursion)
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return null();
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return boolean(v.GetBool());
    case rapidjson::kStringType:
      return string(std::string_view(v.GetString(), v.GetStringLength()));
    case rapidjson::kNumberType:
      if (v.IsInt64()) return integer(v.GetInt64());
      if (v.IsUint64()) return unsigned_integer(v.GetUint64());
      return floating(v.GetDouble());
    case rapidjson::kArrayType:
      begin_array();
      for (const auto& element : v.GetArray())
        value(element);
      return end_array();
    case rapidjson::kObjectType:
      begin_object();
      for (const auto& m : v.GetObject()) {
        key(std::string_view(m.name.GetString(), m.name.GetStringLength()));
        value(m.value);
      }
      return end_object();
  }
  return *this;
}

json_writer& json_writer::base64(const std::vector<std::uint8_t>& bytes) {
  separate();
  *out_ += '"';
  codecs::base64::append_encoded(*out_, bytes.data(), bytes.size());
  *out_ += '"';
  needs_comma_ = true;
  return *this;
}

json_writer& json_writer::strings(const std::vector<std::string>& values) {
  begin_array();
  for (const auto& v : values)
    string(v);
  return end_array();
}

json_writer& json_writer::numbers(const std::vector<double>& values) {
  begin_array();
  for (const double v : values)
    number(v);
  return end_array();
}

std::optional<json_scalar> to_scalar(const json_value& v) {
  if (v.IsString()) return json_scalar{std::string(v.GetString(), v.GetStringLength())};
  if (v.IsInt64()) return json_scalar{v.GetInt64()};
  if (v.IsNumber()) return json_scalar{v.GetDouble()};
  if (v.IsBool()) return json_scalar{v.GetBool()};
  return std::nullopt;
}

json_object json_object_access::from_value(const json_value& object) {
  std::string text;
  json_writer(text).value(object);
  return json_object(std::move(text));
}

}  // namespace cb::elevenlabs::detail
