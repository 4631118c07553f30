#include <catch2/catch.hpp>

#include "apps/fake_elevenlabs/agent_profile.hpp"

namespace fe = cb::fake_elevenlabs;
using cb::codecs::encoding;

TEST_CASE("agent ids name a scenario and optionally both audio formats") {
  const auto echo = fe::profile_from_agent_id("echo.pcm_16000.pcm_44100");
  REQUIRE(echo);
  CHECK(echo->scenario == fe::scenario_kind::echo);
  CHECK(echo->input == cb::codecs::audio_format{encoding::pcm_s16le, 16000});
  CHECK(echo->output == cb::codecs::audio_format{encoding::pcm_s16le, 44100});
  CHECK(echo->agent_id == "echo.pcm_16000.pcm_44100");

  const auto tone = fe::profile_from_agent_id("tone.ulaw_8000.ulaw_8000");
  REQUIRE(tone);
  CHECK(tone->input == cb::codecs::audio_format{encoding::ulaw, 8000});
  CHECK(tone->output == cb::codecs::audio_format{encoding::ulaw, 8000});

  const auto input_only = fe::profile_from_agent_id("transcript.pcm_8000");
  REQUIRE(input_only);
  CHECK(input_only->input.rate_hz == 8000);
  CHECK(input_only->output == cb::codecs::audio_format{encoding::pcm_s16le, 16000});

  const auto plain = fe::profile_from_agent_id("stall");
  REQUIRE(plain);
  CHECK(plain->scenario == fe::scenario_kind::stall);
  CHECK(plain->input == cb::codecs::audio_format{encoding::pcm_s16le, 16000});
}

TEST_CASE("agent ids that do not follow the convention are unknown") {
  CHECK_FALSE(fe::profile_from_agent_id("agent_8a7b6c"));
  CHECK_FALSE(fe::profile_from_agent_id("echo.pcm_12345"));
  CHECK_FALSE(fe::profile_from_agent_id("echo.pcm_16000.ulaw_16000"));
  CHECK_FALSE(fe::profile_from_agent_id("echo.pcm_16000.pcm_16000.extra"));
  CHECK_FALSE(fe::profile_from_agent_id(""));
}

TEST_CASE("error agent ids select the close code and the error shape") {
  const auto e1002 = fe::profile_from_agent_id("error_1002");
  const auto e1008 = fe::profile_from_agent_id("error_1008");
  const auto e1011 = fe::profile_from_agent_id("error_1011.ulaw_8000.ulaw_8000");
  const auto quota = fe::profile_from_agent_id("error_quota");
  const auto plain = fe::profile_from_agent_id("error");
  REQUIRE((e1002 && e1008 && e1011 && quota && plain));
  CHECK(e1002->error_code == 1002);
  CHECK(e1002->error_type == "llm_timeout");
  CHECK(e1008->error_code == 1008);
  CHECK(e1011->error_code == 1011);
  CHECK(e1011->error_type == "unknown_websocket_crash");
  CHECK(e1011->input.enc == encoding::ulaw);
  CHECK(quota->flat_error);
  CHECK(quota->error_code == 1002);
  CHECK(plain->error_code == 1002);
  CHECK_FALSE(plain->flat_error);
}

TEST_CASE("CLI agent specs set the id, the scenario and the options") {
  const auto spec = fe::parse_agent_spec(
      "support=transcript.ulaw_8000,out=pcm_22050,tone=300,ms=1500,public=1,require=name+plan,"
      "chunk_ms=100,speed=3");
  REQUIRE(spec);
  CHECK(spec->agent_id == "support");
  CHECK(spec->scenario == fe::scenario_kind::transcript);
  CHECK(spec->input == cb::codecs::audio_format{encoding::ulaw, 8000});
  CHECK(spec->output == cb::codecs::audio_format{encoding::pcm_s16le, 22050});
  REQUIRE(spec->greeting);
  CHECK(spec->greeting->frequency_hz == 300.0);
  CHECK(spec->greeting->duration_ms == 1500);
  CHECK(spec->is_public);
  CHECK(spec->required_dynamic_variables == std::vector<std::string>{"name", "plan"});
  CHECK(spec->chunk_ms == 100);
  CHECK(spec->speed == 3.0);

  const auto silent = fe::parse_agent_spec("quiet=echo,ms=0");
  REQUIRE(silent);
  CHECK_FALSE(silent->greeting);

  const auto tool = fe::parse_agent_spec("shop=client_tool,tool=open_page,arg.url=/pricing");
  REQUIRE(tool);
  CHECK(tool->tool_name == "open_page");
  CHECK(tool->tool_parameters.text() == R"({"url":"/pricing"})");

  const auto interrupt = fe::parse_agent_spec("barge=interrupt,stale=5");
  REQUIRE(interrupt);
  CHECK_FALSE(interrupt->greeting);
  CHECK(interrupt->stale_chunks == 5);

  const auto barge = fe::parse_agent_spec("quick=tone,barge_in=1,barge_in_ms=60,silence_ms=200");
  REQUIRE(barge);
  CHECK(barge->barge_in);
  CHECK(barge->barge_in_ms == 60);
  CHECK(barge->turn_silence_ms == 200);
}

TEST_CASE("malformed CLI agent specs are refused with a reason") {
  CHECK_FALSE(fe::parse_agent_spec("echo"));
  CHECK_FALSE(fe::parse_agent_spec("=echo"));
  CHECK_FALSE(fe::parse_agent_spec("a=nonsense"));
  CHECK_FALSE(fe::parse_agent_spec("a=echo,in=pcm_1"));
  CHECK_FALSE(fe::parse_agent_spec("a=echo,volume=11"));
  CHECK_FALSE(fe::parse_agent_spec("a=echo,chunk_ms=abc"));
  CHECK_FALSE(fe::parse_agent_spec("a=echo,chunk_ms=5"));
  const auto error = fe::parse_agent_spec("a=echo,public");
  REQUIRE_FALSE(error);
  CHECK(error.error().find("public") != std::string::npos);
}
