// Internal to the elevenlabs_* protocol files: RapidJSON parsing into a stack arena, member readers
// that name the offending JSON path on error, and a writer that appends to a std::string.
//
// RapidJSON's GenericDocument and Writer are not used: their internal stack does arithmetic on a
// null pointer on its first push, which UBSan rightly aborts on. Only the reader runs, in the one
// mode that never touches that stack (in place, numbers handed over as text), and a small SAX
// handler here builds the DOM and converts the numbers.
#pragma once

#include <rapidjson/allocators.h>
#include <rapidjson/document.h>
#include <rapidjson/encodings.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/elevenlabs_json_object.hpp"
#include "protocol/elevenlabs_parse_error.hpp"

namespace cb::elevenlabs::detail {

using pool_allocator = rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>;
using json_value = rapidjson::GenericValue<rapidjson::UTF8<>, pool_allocator>;

// Bytes parse_object_in_place appends to the buffer (see there); copies reserve them up front.
inline constexpr std::size_t in_place_padding = 4;

// json copied into a buffer with room for the padding, ready for parse_object_in_place.
[[nodiscard]] std::string padded_copy(std::string_view json);

// A DOM whose nodes live in an array inside this object (put it on the stack): a typical frame
// parses without touching the heap; a larger one spills into 64 KiB heap chunks freed with the
// object.
class parsed_document {
 public:
  parsed_document();
  ~parsed_document() = default;
  parsed_document(const parsed_document&) = delete;
  parsed_document& operator=(const parsed_document&) = delete;
  parsed_document(parsed_document&&) = delete;
  parsed_document& operator=(parsed_document&&) = delete;

  // Parses json_buffer in place: RapidJSON unescapes strings where they lie and the DOM points into
  // the buffer, so no string is copied; the buffer must outlive the document, and afterwards holds
  // garbage and a few more bytes. Strict: one JSON object, valid UTF-8, no NUL bytes, numbers that
  // fit a double, at most max_json_depth deep.
  [[nodiscard]] std::optional<parse_error> parse_object_in_place(std::string& json_buffer);

  [[nodiscard]] const json_value& root() const { return root_; }

 private:
  alignas(16) std::array<char, 16384> arena_{};
  rapidjson::CrtAllocator heap_;
  pool_allocator values_;
  json_value root_;
};

// Where a member sits, for error messages only: each reader keeps the name it was reached by and a
// pointer to its parent's, and the dotted string is built when an error is reported.
struct json_path {
  const json_path* parent = nullptr;
  std::string_view name;
};

enum class presence : std::uint8_t { optional, required };

// Reads the members of one JSON object into value types. Required members: absent is
// missing_field, a wrong type (null included) is wrong_type. std::optional outputs: absent or null
// gives nullopt. The first error is kept in the shared slot and later reads do nothing, so a
// message is read straight through and checked once at the end.
class field_reader {
 public:
  field_reader(const json_value& object, std::optional<parse_error>& error)
      : object_(&object), error_(&error) {}
  field_reader(const json_value& object, const json_path& parent, std::string_view name,
               std::optional<parse_error>& error)
      : object_(&object), path_{&parent, name}, error_(&error) {}

  [[nodiscard]] bool ok() const { return !error_->has_value(); }
  [[nodiscard]] const json_value& object() const { return *object_; }
  [[nodiscard]] bool has(std::string_view key) const { return find(key) != nullptr; }

  // Records an error about member `key` of this object (the first error wins).
  void fail(parse_error_code code, std::string_view key, std::string detail);

  void read(std::string_view key, std::string& out);
  void read(std::string_view key, std::string_view& out);  // points into the parsed buffer
  void read(std::string_view key, std::int64_t& out);
  void read(std::string_view key, double& out);  // any JSON number
  void read(std::string_view key, bool& out);
  void read(std::string_view key, json_object& out);
  void read(std::string_view key, std::vector<std::string>& out);  // array of strings
  void read(std::string_view key, std::vector<double>& out);       // array of numbers
  // A base64 string decoded into out (its capacity is reused); bad base64 is invalid_value.
  void read_base64(std::string_view key, std::vector<std::uint8_t>& out);

  template <class T>
  void read(std::string_view key, std::optional<T>& out) {
    if (!ok()) return;
    const json_value* member = find(key);
    if (member == nullptr || member->IsNull()) {
      out.reset();
      return;
    }
    if (!out) out.emplace();
    read(key, *out);
  }

  // The member object `key`, to read its members; nullopt when it is absent/null and optional, or
  // when it is in error (then the error is recorded).
  [[nodiscard]] std::optional<field_reader> child(std::string_view key, presence p);

 private:
  [[nodiscard]] const json_value* find(std::string_view key) const;
  // The member, or nullptr after recording missing_field / wrong_type.
  const json_value* require(std::string_view key, bool (json_value::*is_type)() const,
                            const char* expected);

  const json_value* object_;
  json_path path_;
  std::optional<parse_error>* error_;
};

// Appends compact JSON to a std::string. The caller emits a well-formed sequence (keys only inside
// objects, each followed by one value); the writer adds the separators. Strings are escaped as
// JSON requires; callers pass valid UTF-8, as every parsed message is.
class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(&out) {}

  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view k);

  json_writer& string(std::string_view s);
  json_writer& integer(std::int64_t i);
  json_writer& unsigned_integer(std::uint64_t u);
  // Integral values as integers (the agent writes timings and scores that way), others in
  // shortest round-trip form; NaN and infinities, which JSON cannot carry, as null.
  json_writer& number(double d);
  // Always in floating form ("2.0", not "2"), so a reader sees a double again (dynamic variables
  // and arbitrary JSON keep their number types); non-finite as null.
  json_writer& floating(double d);
  json_writer& boolean(bool b);
  json_writer& null();
  json_writer& raw(const json_object& object);
  json_writer& value(const json_value& v);  // any DOM value, recursively
  json_writer& base64(const std::vector<std::uint8_t>& bytes);
  json_writer& strings(const std::vector<std::string>& values);
  json_writer& numbers(const std::vector<double>& values);

  // `"key": value` for a set optional member; nothing for nullopt.
  template <class T>
  json_writer& member(std::string_view k, const std::optional<T>& v) {
    if (v) {
      key(k);
      write(*v);
    }
    return *this;
  }

 private:
  void write(const std::string& s) { string(s); }
  void write(std::int64_t i) { integer(i); }
  void write(double d) { number(d); }
  void write(bool b) { boolean(b); }
  void write(const std::vector<std::string>& values) { strings(values); }
  void write(const json_object& object) { raw(object); }

  // Opens a value: a comma unless it is the first in its container or follows a key.
  void separate();
  void escaped(std::string_view s);

  std::string* out_;
  bool needs_comma_ = false;
};

// A string, number or boolean as json_scalar; nullopt for null, objects and arrays. Integers beyond
// int64 become doubles.
[[nodiscard]] std::optional<json_scalar> to_scalar(const json_value& v);

struct json_object_access {
  // The canonical text of a DOM object (json_writer's compact rendering).
  static json_object from_value(const json_value& object);
};

}  // namespace cb::elevenlabs::detail
