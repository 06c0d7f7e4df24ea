// HTTP/2 framing, as much as the h2c connection fixer needs (RFC 9113 §4.1, §6): frame header
// layout, the types and flags it looks at, and writing a header block out as HEADERS plus
// CONTINUATION frames. Frame headers:
//
//   +-----------------------------------------------+
//   |                 Length (24)                   |
//   +---------------+---------------+---------------+
//   |   Type (8)    |   Flags (8)   |
//   +-+-------------+---------------+-------------------------------+
//   |R|                 Stream Identifier (31)                      |
//   +=+=============================================================+

/** Bytes in a frame header. */
export const FRAME_HEADER_BYTES = 9;

/** The client connection preface (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * Largest frame payload we write, in bytes: the smallest SETTINGS_MAX_FRAME_SIZE a peer may
 * advertise, so it fits whatever the inner http2 server announced.
 */
export const FRAME_PAYLOAD_BYTES_MAX = 16_384;

/** Frame types. */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags (their meaning depends on the type). */
export const FrameFlag = {
  ACK: 0x1,
  END_STREAM: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** A frame header. */
export interface FrameHeader {
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
}

/** Reads the frame header at `at` (the caller checked that 9 bytes are there). */
export function readFrameHeader(buf: Buffer, at: number): FrameHeader {
  return {
    length: (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!,
    type: buf[at + 3]!,
    flags: buf[at + 4]!,
    streamId: buf.readUInt32BE(at + 5) & 0x7fffffff,
  };
}

/** An empty SETTINGS frame: "every setting at its default". */
export function emptySettingsFrame(): Buffer {
  const frame = Buffer.alloc(FRAME_HEADER_BYTES);
  writeFrameHeader(frame, 0, { length: 0, type: FrameType.SETTINGS, flags: 0, streamId: 0 });
  return frame;
}

/** What a header block is sent with. */
export interface HeaderBlockFrames {
  readonly streamId: number;
  /** END_STREAM is kept; PADDED, PRIORITY and END_HEADERS are set here as needed. */
  readonly endStream: boolean;
  /** The 5 bytes of a HEADERS frame's priority fields, when it carried them. */
  readonly priority: Buffer | undefined;
}

/**
 * Frames a whole header block: one HEADERS frame, then CONTINUATION frames while the block does
 * not fit, each payload at most FRAME_PAYLOAD_BYTES_MAX. No padding.
 */
export function headerBlockFrames(block: Buffer, o: HeaderBlockFrames): Buffer {
  const prefix = o.priority?.length ?? 0;
  const first = Math.min(block.length, FRAME_PAYLOAD_BYTES_MAX - prefix);
  const rest = block.length - first;
  const continuations = Math.ceil(rest / FRAME_PAYLOAD_BYTES_MAX);
  const out = Buffer.allocUnsafe((1 + continuations) * FRAME_HEADER_BYTES + prefix + block.length);
  let flags = (o.endStream ? FrameFlag.END_STREAM : 0) | (o.priority === undefined ? 0 : FrameFlag.PRIORITY);
  if (continuations === 0) flags |= FrameFlag.END_HEADERS;
  writeFrameHeader(out, 0, { length: prefix + first, type: FrameType.HEADERS, flags, streamId: o.streamId });
  let at = FRAME_HEADER_BYTES;
  if (o.priority !== undefined) at += o.priority.copy(out, at);
  at += block.copy(out, at, 0, first);
  for (let from = first; from < block.length; from += FRAME_PAYLOAD_BYTES_MAX) {
    const n = Math.min(FRAME_PAYLOAD_BYTES_MAX, block.length - from);
    const last = from + n === block.length;
    writeFrameHeader(out, at, {
      length: n,
      type: FrameType.CONTINUATION,
      flags: last ? FrameFlag.END_HEADERS : 0,
      streamId: o.streamId,
    });
    at += FRAME_HEADER_BYTES;
    at += block.copy(out, at, from, from + n);
  }
  return out;
}

function writeFrameHeader(buf: Buffer, at: number, h: FrameHeader): void {
  buf[at] = (h.length >>> 16) & 0xff;
  buf[at + 1] = (h.length >>> 8) & 0xff;
  buf[at + 2] = h.length & 0xff;
  buf[at + 3] = h.type;
  buf[at + 4] = h.flags;
  buf.writeUInt32BE(h.streamId, at + 5);
}
