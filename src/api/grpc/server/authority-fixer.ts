// What a plaintext HTTP/2 client sends, made acceptable to node's http2 server (nghttp2) on its
// way in. grpc-go puts the target it was given in `:authority`, so etcdctl dialing
// "http://127.0.0.1:2379" sends `:authority: http://127.0.0.1:2379`: Go's http2 (etcd) accepts it,
// nghttp2 resets the stream ("'/' is not allowed in an authority") before any handler sees it.
// The fixer cuts frames out of the byte stream (after the client preface), and:
//   - drops the SETTINGS ACK that answers the SETTINGS the acceptor sent, when it sent some
//     (h2c-connection.ts);
//   - decodes the first header block; when its `:authority` has a scheme, every header block from
//     then on is decoded against the client's dynamic table and encoded again without the scheme
//     and without touching the inner server's table ("rewriting"); otherwise bytes pass as they
//     are ("passing"), and once that ACK is gone the fixer is transparent.
// Other frames pass as slices of the chunks they came in. On what it does not understand
// (a malformed or oversized header block, a frame inside one) the fixer steps aside: it passes the
// bytes on and the inner server answers the protocol error as it would have.
import {
  FRAME_HEADER_BYTES,
  FRAME_PAYLOAD_BYTES_MAX,
  FrameFlag,
  FrameType,
  headerBlockFrames,
  readFrameHeader,
} from './h2-frames.ts';
import type { FrameHeader } from './h2-frames.ts';
import { authorityWithoutScheme, encodeHeaderBlock, HeaderBlockDecoder } from './hpack-block.ts';
import type { HeaderField } from './hpack-block.ts';

/**
 * Largest header block (all its fragments) the fixer gathers, in bytes. Past it, it steps aside:
 * the inner server limits header lists to far less (node's maxSessionMemory, maxHeaderListPairs).
 */
export const HEADER_BLOCK_BYTES_MAX = 1024 * 1024;

/**
 *   deciding ──first header block, no scheme in :authority──▶ passing
 *      └──────first header block with one─────────────────▶ rewriting
 *   (deciding, rewriting) ──input it cannot follow──▶ passing
 */
export type FixerMode = 'deciding' | 'rewriting' | 'passing';

/** A header block whose CONTINUATION frames are still to come. */
interface PendingBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly priority: Buffer | undefined;
  readonly fragments: Buffer[];
  /** The frames as received, passed on unchanged if the block is not re-encoded. */
  readonly frames: Buffer[];
  bytes: number;
}

/** Fixes one connection's client-to-server bytes; `push` chunks in order, send what it returns. */
export class AuthorityFixer {
  #mode: FixerMode = 'deciding';
  /** The next SETTINGS ACK answers the acceptor's SETTINGS, which the inner server never sent. */
  #ackPending = false;
  #settingsSeen = 0;
  #awaitsServer = false;
  /** A frame header, or a frame to gather, that a chunk boundary cut: the rest comes next. */
  #carry: Buffer | undefined;
  /** Payload bytes of the frame being passed on that are still to come. */
  #skip = 0;
  #block: PendingBlock | undefined;
  readonly #decoder = new HeaderBlockDecoder();
  /** Where the bytes to pass on go, during one push. */
  #out: Buffer[] = [];

  get mode(): FixerMode {
    return this.#mode;
  }

  /** Nothing more to change: every byte from now on passes as it is. */
  get transparent(): boolean {
    return this.#mode === 'passing' && !this.#ackPending;
  }

  /**
   * The client sent, before the first header block, a frame the server must answer (PING, a
   * later SETTINGS) or one that ends the connection (GOAWAY): it should not wait for a decision.
   */
  get awaitsServer(): boolean {
    return this.#awaitsServer;
  }

  /**
   * The acceptor sent the client SETTINGS of its own: the client's next SETTINGS ACK answers
   * them, and is dropped (the inner server, which has sent none yet, would take it for its own).
   */
  expectSettingsAck(): void {
    this.#ackPending = true;
  }

  /** Takes the next chunk of client bytes; returns the bytes to pass on, in order. */
  push(chunk: Buffer): Buffer[] {
    if (this.transparent) return [chunk];
    this.#out = [];
    let rest = chunk;
    if (this.#carry !== undefined) {
      const unit = this.#completeCarry(chunk);
      if (unit === undefined) return this.#out;
      rest = chunk.subarray(unit.taken);
      this.#scan(unit.bytes);
    }
    this.#scan(rest);
    return this.#out;
  }

  /**
   * Completes the frame header, or the gathered frame, that the previous chunk cut, copying no
   * more of `chunk` than that needs. Undefined when `chunk` did not complete it either.
   */
  #completeCarry(chunk: Buffer): { bytes: Buffer; taken: number } | undefined {
    let carry = this.#carry!;
    let taken = 0;
    const extend = (target: number): boolean => {
      const n = Math.min(target - carry.length, chunk.length - taken);
      if (n > 0) carry = Buffer.concat([carry, chunk.subarray(taken, (taken += n))]);
      return carry.length === target;
    };
    if (carry.length < FRAME_HEADER_BYTES && !extend(FRAME_HEADER_BYTES)) {
      this.#carry = carry;
      return undefined;
    }
    const h = readFrameHeader(carry, 0);
    if (this.#gathers(h) && !extend(FRAME_HEADER_BYTES + h.length)) {
      this.#carry = carry;
      return undefined;
    }
    this.#carry = undefined;
    return { bytes: carry, taken };
  }

  /** Cuts `buf` into frames; what a frame cut at its end needs waits in #carry. */
  #scan(buf: Buffer): void {
    const out = this.#out;
    let pos = 0;
    let run = 0; // [run, pos) passes unchanged
    while (pos < buf.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, buf.length - pos);
        pos += n;
        this.#skip -= n;
        continue;
      }
      if (this.transparent || buf.length - pos < FRAME_HEADER_BYTES) break;
      const h = readFrameHeader(buf, pos);
      // A pending header block may be released by this frame: what came before goes first.
      if (this.#block !== undefined && run < pos) out.push(buf.subarray(run, (run = pos)));
      if (h.length > FRAME_PAYLOAD_BYTES_MAX && isHeaderFrame(h) && this.#mode !== 'passing') {
        // Larger than the inner server allows (it never raises SETTINGS_MAX_FRAME_SIZE): its error.
        this.#stepAside();
      }
      if (!this.#gathers(h)) {
        this.#note(h);
        pos += FRAME_HEADER_BYTES;
        this.#skip = h.length;
        continue;
      }
      const end = pos + FRAME_HEADER_BYTES + h.length;
      if (end > buf.length) break;
      if (run < pos) out.push(buf.subarray(run, pos));
      this.#onFrame(h, buf.subarray(pos, end));
      pos = run = end;
    }
    if (this.transparent) pos = buf.length;
    if (run < pos) out.push(buf.subarray(run, pos));
    if (pos < buf.length) this.#carry = buf.subarray(pos);
  }

  /** Frames the fixer may change, or must drop, are gathered whole before anything passes. */
  #gathers(h: FrameHeader): boolean {
    if (h.length > FRAME_PAYLOAD_BYTES_MAX) return false;
    if (h.type === FrameType.SETTINGS) return this.#ackPending && (h.flags & FrameFlag.ACK) !== 0;
    return this.#mode !== 'passing' && isHeaderFrame(h);
  }

  /** Watches the frames that pass whole (all but header blocks and the ACK). */
  #note(h: FrameHeader): void {
    if (this.#block !== undefined) {
      // Only CONTINUATION may follow an unfinished header block (RFC 9113 §6.10).
      this.#stepAside();
      return;
    }
    if (this.#mode !== 'deciding') return;
    if (h.type === FrameType.SETTINGS && (h.flags & FrameFlag.ACK) === 0) {
      if (++this.#settingsSeen > 1) this.#awaitsServer = true;
    } else if (h.type === FrameType.PING && (h.flags & FrameFlag.ACK) === 0) {
      this.#awaitsServer = true;
    } else if (h.type === FrameType.GOAWAY) {
      this.#awaitsServer = true;
    }
  }

  #onFrame(h: FrameHeader, frame: Buffer): void {
    if (h.type === FrameType.SETTINGS) {
      // The only whole SETTINGS frame we take is the pending ACK: dropped, unless it breaks into
      // a header block (then the inner server is to see that, and fail the connection).
      this.#ackPending = false;
      if (this.#block !== undefined) this.#stepAside(frame);
    } else if (this.#mode === 'passing') {
      this.#out.push(frame); // the fixer stepped aside while this frame was being gathered
    } else if (h.type === FrameType.HEADERS) {
      this.#onHeaders(h, frame);
    } else {
      this.#onContinuation(h, frame);
    }
  }

  #onHeaders(h: FrameHeader, frame: Buffer): void {
    if (this.#block !== undefined) return this.#stepAside(frame);
    let at = FRAME_HEADER_BYTES;
    let padding = 0;
    if ((h.flags & FrameFlag.PADDED) !== 0) {
      if (h.length < 1) return this.#stepAside(frame);
      padding = frame[at++]!;
    }
    let priority: Buffer | undefined;
    if ((h.flags & FrameFlag.PRIORITY) !== 0) {
      priority = frame.subarray(at, at + 5);
      at += 5;
    }
    const end = frame.length - padding;
    if (end < at) return this.#stepAside(frame);
    const fragment = frame.subarray(at, end);
    const block: PendingBlock = {
      streamId: h.streamId,
      endStream: (h.flags & FrameFlag.END_STREAM) !== 0,
      priority,
      fragments: [fragment],
      frames: [frame],
      bytes: fragment.length,
    };
    if ((h.flags & FrameFlag.END_HEADERS) !== 0) this.#onBlock(block);
    else this.#block = block;
  }

  #onContinuation(h: FrameHeader, frame: Buffer): void {
    const block = this.#block;
    if (block === undefined || block.streamId !== h.streamId) return this.#stepAside(frame);
    const fragment = frame.subarray(FRAME_HEADER_BYTES);
    block.fragments.push(fragment);
    block.frames.push(frame);
    block.bytes += fragment.length;
    if (block.bytes > HEADER_BLOCK_BYTES_MAX) return this.#stepAside();
    if ((h.flags & FrameFlag.END_HEADERS) === 0) return;
    this.#block = undefined;
    this.#onBlock(block);
  }

  #onBlock(block: PendingBlock): void {
    const raw = block.fragments.length === 1 ? block.fragments[0]! : Buffer.concat(block.fragments);
    let fields: HeaderField[];
    try {
      fields = this.#decoder.decode(raw);
    } catch {
      this.#mode = 'passing';
      for (const f of block.frames) this.#out.push(f);
      return;
    }
    if (this.#mode === 'deciding') {
      if (!fields.some((f) => f.name === ':authority' && authorityWithoutScheme(f.value) !== undefined)) {
        this.#mode = 'passing';
        for (const f of block.frames) this.#out.push(f);
        return;
      }
      this.#mode = 'rewriting';
    }
    const fixed = fields.map((f) => {
      const authority = f.name === ':authority' ? authorityWithoutScheme(f.value) : undefined;
      return authority === undefined ? f : { ...f, value: authority };
    });
    const { streamId, endStream, priority } = block;
    this.#out.push(headerBlockFrames(encodeHeaderBlock(fixed), { streamId, endStream, priority }));
  }

  /**
   * Stops changing anything. Passes on the frames of an unfinished header block, then `frame`
   * (the one that showed the fixer could not follow).
   */
  #stepAside(frame?: Buffer): void {
    this.#mode = 'passing';
    for (const f of this.#block?.frames ?? []) this.#out.push(f);
    this.#block = undefined;
    if (frame !== undefined) this.#out.push(frame);
  }
}

function isHeaderFrame(h: FrameHeader): boolean {
  return h.type === FrameType.HEADERS || h.type === FrameType.CONTINUATION;
}
