#include <rapidjson/reader.h>
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "apps/callsim/report_format.hpp"

namespace cs = cb::callsim;

namespace {

// Strict JSON parsing into "a.b" -> text. Only RapidJSON's reader, in place and with numbers as
// text: its Document does arithmetic on a null pointer, which UBSan aborts on.
class flat_json : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, flat_json> {
 public:
  static std::optional<std::map<std::string, std::string>> parse(std::string text) {
    flat_json handler;
    rapidjson::InsituStringStream stream(text.data());
    rapidjson::Reader reader;
    constexpr unsigned flags = rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag |
                               rapidjson::kParseValidateEncodingFlag;
    if (reader.Parse<flags>(stream, handler).IsError()) return std::nullopt;
    return handler.values_;
  }

  bool Key(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    key_.assign(s, n);
    return true;
  }
  bool StartObject() {
    prefix_.push_back(prefix_.empty() ? std::string() : prefix_.back() + key_ + ".");
    return true;
  }
  bool EndObject(rapidjson::SizeType /*members*/) {
    prefix_.pop_back();
    return true;
  }
  bool String(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    return put(std::string(s, n));
  }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    return put(std::string(s, n));
  }
  bool Bool(bool b) { return put(b ? "true" : "false"); }
  bool Null() { return put("null"); }

 private:
  bool put(std::string value) {
    values_[prefix_.back() + key_] = std::move(value);
    return true;
  }

  std::vector<std::string> prefix_;
  std::string key_;
  std::map<std::string, std::string> values_;
};

double number(const std::map<std::string, std::string>& json, const std::string& key) {
  return std::stod(json.at(key));
}

}  // namespace

TEST_CASE("a call report renders as one JSON object with its numbers") {
  cs::call_report r;
  r.handle = cs::call_handle{7};
  r.uuid = "ab\"c\\d-ascii-id!";  // an ASCII id may hold characters JSON must escape
  r.end = cs::call_end::server_hangup;
  r.detail = "line\nbreak";
  r.audio_frames_sent = 250;
  r.late_sends = 2;
  r.audio_frames_received = 249;
  r.timing.late_frames = 3;
  r.heard_hz = 440.0;
  r.downlink.count = 10;
  r.downlink.p99_ms = 1.5;
  const auto json = flat_json::parse(cs::to_json(r));
  REQUIRE(json);
  CHECK(json->at("handle") == "7");
  CHECK(json->at("uuid") == r.uuid);
  CHECK(json->at("end") == "server_hangup");
  CHECK(json->at("detail") == r.detail);
  CHECK(json->at("sent.audio_frames") == "250");
  CHECK(json->at("sent.late") == "2");
  CHECK(json->at("received.audio_frames") == "249");
  CHECK(json->at("received.server_sent_hangup") == "false");
  CHECK(json->at("timing.late_frames") == "3");
  CHECK(number(*json, "heard.hz") == Approx(440.0));
  CHECK(number(*json, "downlink.p99_ms") == Approx(1.5));
}

TEST_CASE("the aggregate renders as JSON with a count per way of ending") {
  cs::aggregate_report total;
  total.calls = 3;
  total.late_sends = 4;
  total.ends[static_cast<std::size_t>(cs::call_end::caller_hangup)] = 2;
  total.ends[static_cast<std::size_t>(cs::call_end::connect_failed)] = 1;
  const auto json = flat_json::parse(cs::to_json(total));
  REQUIRE(json);
  CHECK(json->at("calls") == "3");
  CHECK(json->at("ends.caller_hangup") == "2");
  CHECK(json->at("ends.connect_failed") == "1");
  CHECK(json->at("ends.running") == "0");
  CHECK(json->at("late_sends") == "4");
  CHECK(json->count("downlink.p50_ms") == 1);
}

TEST_CASE("summary lines name the call, its counts and how it ended") {
  cs::call_report r;
  r.uuid = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
  r.end = cs::call_end::caller_hangup;
  r.audio_frames_sent = 250;
  const auto line = cs::summary_line(r);
  CHECK(line.find(r.uuid) == 0);
  CHECK(line.find("sent 250") != std::string::npos);
  CHECK(line.find("heard nothing") != std::string::npos);
  CHECK(line.find("caller_hangup") != std::string::npos);

  cs::aggregate_report total;
  total.calls = 2;
  total.ends[static_cast<std::size_t>(cs::call_end::caller_hangup)] = 2;
  CHECK(cs::summary_line(total).find("2 calls (caller_hangup 2)") != std::string::npos);
}

TEST_CASE("the level bar fills in proportion to -60..0 dBFS") {
  CHECK(cs::level_bar(-120.0, 10) == "..........");
  CHECK(cs::level_bar(-30.0, 10) == "#####.....");
  CHECK(cs::level_bar(0.0, 10) == "##########");
  CHECK(cs::level_bar(6.0, 4) == "####");
}
