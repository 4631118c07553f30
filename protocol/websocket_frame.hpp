// Client-to-server WebSocket frames (RFC 6455 section 5): the header and the masked payload written
// in one pass. libwebsockets masks byte by byte, re-reading its mask index for every byte; on the
// uplink (50 user_audio_chunk messages a second per call) that loop was the ws_client thread's
// hottest code, so the bridge frames its own data messages and hands lws the finished bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cb::websocket {

enum class opcode : std::uint8_t { text = 0x1, binary = 0x2 };

using masking_key = std::array<std::uint8_t, 4>;

// Longest header of a masked frame: 2 bytes, 8 of extended length, 4 of masking key.
inline constexpr std::size_t max_client_header_size = 14;

// Bytes of the header of a masked frame carrying `payload_size` bytes.
std::size_t client_header_size(std::size_t payload_size);

// Writes one final (FIN) masked frame, header then payload XOR key, to `out`, which must hold
// client_header_size(payload.size()) + payload.size() bytes. Returns the bytes written.
std::size_t write_client_frame(opcode op, std::string_view payload, const masking_key& key,
                               std::uint8_t* out);

}  // namespace cb::websocket
