// The binary codec of Raft messages on the peer wire, and the length-prefixed frames that carry
// them. Decoding trusts nothing: every length is checked against the bytes actually present (and
// the frame cap) before anything is allocated, so a malformed or hostile frame costs a clear
// TransportError, never a crash or an absurd allocation. Decoded byte fields are fresh copies.
//
//   frame    = u32 length | message
//   message  = u8 version(1) | u8 type | u16 flags | u64 to | u64 from | u53 term
//              [u53 logTerm] [u53 index] [u32 n, entry×n] [u53 commit] [snapshot]
//              [u53 rejectHint] [u32 len, context]          (each present iff its flag bit is set)
//   entry    = u8 type | u53 term | u53 index | u32 len | data
//   snapshot = u53 index | u53 term | ids voters | ids learners | ids votersOutgoing
//              | ids learnersNext | u8 autoLeave | u32 len | data       (ids = u32 n, u64×n)
//   u53      = u32 high | u32 low, high ≤ 0x1fffff (a safe integer)
import {
  EntryType,
  MessageType,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type Snapshot,
} from '../raft/index.ts';
import { assert } from '../util/assert.ts';
import { ByteQueue } from './bytes.ts';
import { TransportError, TransportErrorCode } from './errors.ts';

const VERSION = 1;
/** Wire codes of message kinds: the position in this list. Append only. */
const TYPE_CODES: readonly MessageType[] = [
  MessageType.Hup, MessageType.Beat, MessageType.Prop, MessageType.App, MessageType.AppResp,
  MessageType.Vote, MessageType.VoteResp, MessageType.Snap, MessageType.Heartbeat,
  MessageType.HeartbeatResp, MessageType.Unreachable, MessageType.SnapStatus,
  MessageType.CheckQuorum, MessageType.TransferLeader, MessageType.TimeoutNow,
  MessageType.ReadIndex, MessageType.ReadIndexResp, MessageType.PreVote, MessageType.PreVoteResp,
];
const TYPE_CODE = new Map(TYPE_CODES.map((type, code) => [type, code]));
const ENTRY_TYPES: readonly EntryType[] = [EntryType.Normal, EntryType.ConfChange];
const ENTRY_TYPE_CODE = new Map(ENTRY_TYPES.map((type, code) => [type, code]));

const F_LOG_TERM = 1 << 0;
const F_INDEX = 1 << 1;
const F_ENTRIES = 1 << 2;
const F_COMMIT = 1 << 3;
const F_SNAPSHOT = 1 << 4;
const F_REJECT = 1 << 5;
const F_REJECT_TRUE = 1 << 6;
const F_REJECT_HINT = 1 << 7;
const F_CONTEXT = 1 << 8;
const F_ALL = (1 << 9) - 1;

const HEADER_BYTES = 1 + 1 + 2 + 8 + 8 + 8;
const ENTRY_FIXED_BYTES = 1 + 8 + 8 + 4;
/** Bytes of a frame's length prefix. */
export const FRAME_PREFIX_BYTES = 4;

/** The encoded size of a message, in bytes (without the frame prefix). */
export function messageBytes(m: Message): number {
  let n = HEADER_BYTES;
  if (m.logTerm !== undefined) n += 8;
  if (m.index !== undefined) n += 8;
  if (m.entries !== undefined) {
    n += 4;
    for (const e of m.entries) n += ENTRY_FIXED_BYTES + e.data.length;
  }
  if (m.commit !== undefined) n += 8;
  if (m.snapshot !== undefined) n += snapshotBytes(m.snapshot);
  if (m.rejectHint !== undefined) n += 8;
  if (m.context !== undefined) n += 4 + m.context.length;
  return n;
}

function snapshotBytes(s: Snapshot): number {
  const cs = s.metadata.confState;
  const ids = cs.voters.length + cs.learners.length + cs.votersOutgoing.length + cs.learnersNext.length;
  return 8 + 8 + 4 * 4 + ids * 8 + 1 + 4 + s.data.length;
}

/** Encodes one message (no frame prefix). */
export function encodeMessage(m: Message): Uint8Array {
  const out = new Uint8Array(messageBytes(m));
  const end = new Writer(out, 0).message(m).at;
  assert(end === out.length, () => `codec: encoded ${end} bytes, sized ${out.length}`);
  return out;
}

/** Encodes messages as consecutive length-prefixed frames in one buffer (one write). */
export function encodeFrames(messages: readonly Message[]): Uint8Array {
  const sizes = messages.map(messageBytes);
  const out = new Uint8Array(sizes.reduce((sum, n) => sum + FRAME_PREFIX_BYTES + n, 0));
  const w = new Writer(out, 0);
  messages.forEach((m, i) => {
    w.u32(sizes[i]!).message(m);
  });
  assert(w.at === out.length, () => `codec: encoded ${w.at} frame bytes, sized ${out.length}`);
  return out;
}

/** Decodes one message occupying all of `bytes`; throws TransportError when malformed. */
export function decodeMessage(bytes: Uint8Array): Message {
  const r = new Reader(bytes);
  const m = r.message();
  if (r.at !== bytes.length) r.fail(`${bytes.length - r.at} trailing bytes after the message`);
  return m;
}

/**
 * Incremental decoder of a frame stream: push network chunks, get whole messages back. A length
 * prefix above `frameBytesMax` throws before any of the frame is buffered.
 */
export class FrameDecoder {
  readonly #queue = new ByteQueue();
  readonly #frameBytesMax: number;

  constructor(frameBytesMax: number) {
    this.#frameBytesMax = frameBytesMax;
  }

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.#queue.length;
  }

  /** Adds a chunk; returns the messages completed by it, in order. */
  push(chunk: Uint8Array): Message[] {
    this.#queue.push(chunk);
    const out: Message[] = [];
    while (this.#queue.length >= FRAME_PREFIX_BYTES) {
      const size = this.#queue.peekU32();
      if (size > this.#frameBytesMax) {
        throw new TransportError(
          TransportErrorCode.TooLarge,
          `transport: frame of ${size} bytes exceeds the limit of ${this.#frameBytesMax}`,
        );
      }
      if (this.#queue.length < FRAME_PREFIX_BYTES + size) break;
      this.#queue.skip(FRAME_PREFIX_BYTES);
      out.push(decodeMessage(this.#queue.take(size)));
    }
    return out;
  }
}

class Writer {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  at: number;

  constructor(bytes: Uint8Array, at: number) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.at = at;
  }

  u8(v: number): this {
    this.#view.setUint8(this.at, v);
    this.at += 1;
    return this;
  }

  u32(v: number): this {
    this.#view.setUint32(this.at, v);
    this.at += 4;
    return this;
  }

  u53(v: number): this {
    assert(Number.isSafeInteger(v) && v >= 0, () => `codec: ${v} is not a non-negative safe integer`);
    return this.u32(Math.floor(v / 0x1_0000_0000)).u32(v >>> 0);
  }

  id(v: NodeId): this {
    assert(v >= 0n && v < 1n << 64n, () => `codec: id ${v} is not a u64`);
    this.#view.setBigUint64(this.at, v);
    this.at += 8;
    return this;
  }

  bytes(v: Uint8Array): this {
    this.u32(v.length);
    this.#bytes.set(v, this.at);
    this.at += v.length;
    return this;
  }

  ids(v: readonly NodeId[]): this {
    this.u32(v.length);
    for (const id of v) this.id(id);
    return this;
  }

  message(m: Message): this {
    const code = TYPE_CODE.get(m.type);
    assert(code !== undefined, () => `codec: unknown message type ${String(m.type)}`);
    this.u8(VERSION).u8(code);
    this.#view.setUint16(this.at, flagsOf(m));
    this.at += 2;
    this.id(m.to).id(m.from).u53(m.term);
    if (m.logTerm !== undefined) this.u53(m.logTerm);
    if (m.index !== undefined) this.u53(m.index);
    if (m.entries !== undefined) {
      this.u32(m.entries.length);
      for (const e of m.entries) this.entry(e);
    }
    if (m.commit !== undefined) this.u53(m.commit);
    if (m.snapshot !== undefined) this.snapshot(m.snapshot);
    if (m.rejectHint !== undefined) this.u53(m.rejectHint);
    if (m.context !== undefined) this.bytes(m.context);
    return this;
  }

  entry(e: Entry): this {
    const code = ENTRY_TYPE_CODE.get(e.type);
    assert(code !== undefined, () => `codec: unknown entry type ${String(e.type)}`);
    return this.u8(code).u53(e.term).u53(e.index).bytes(e.data);
  }

  snapshot(s: Snapshot): this {
    const cs = s.metadata.confState;
    this.u53(s.metadata.index).u53(s.metadata.term);
    this.ids(cs.voters).ids(cs.learners).ids(cs.votersOutgoing).ids(cs.learnersNext);
    return this.u8(cs.autoLeave ? 1 : 0).bytes(s.data);
  }
}

function flagsOf(m: Message): number {
  let f = 0;
  if (m.logTerm !== undefined) f |= F_LOG_TERM;
  if (m.index !== undefined) f |= F_INDEX;
  if (m.entries !== undefined) f |= F_ENTRIES;
  if (m.commit !== undefined) f |= F_COMMIT;
  if (m.snapshot !== undefined) f |= F_SNAPSHOT;
  if (m.reject !== undefined) f |= m.reject ? F_REJECT | F_REJECT_TRUE : F_REJECT;
  if (m.rejectHint !== undefined) f |= F_REJECT_HINT;
  if (m.context !== undefined) f |= F_CONTEXT;
  return f;
}

class Reader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(detail: string): never {
    throw new TransportError(TransportErrorCode.Malformed, `transport: malformed message: ${detail}`);
  }

  need(n: number, what: string): void {
    const left = this.#bytes.length - this.at;
    if (n > left) this.fail(`${what} needs ${n} bytes at offset ${this.at}, ${left} left`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.#view.getUint8(this.at++);
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.#view.getUint32(this.at);
    this.at += 4;
    return v;
  }

  u53(what: string): number {
    this.need(8, what);
    const high = this.#view.getUint32(this.at);
    const low = this.#view.getUint32(this.at + 4);
    if (high > 0x1f_ffff) this.fail(`${what} at offset ${this.at} is above 2^53`);
    this.at += 8;
    return high * 0x1_0000_0000 + low;
  }

  id(what: string): NodeId {
    this.need(8, what);
    const v = this.#view.getBigUint64(this.at);
    this.at += 8;
    return v;
  }

  /** A count of items each at least `itemBytes` long, checked against the bytes left. */
  count(itemBytes: number, what: string): number {
    const n = this.u32(`${what} count`);
    this.need(n * itemBytes, `${n} ${what}`);
    return n;
  }

  bytes(what: string): Uint8Array {
    const n = this.count(1, `${what} bytes`);
    // NB: a copy as a plain Uint8Array, whatever the input's class: entries outlive the frame.
    const out = new Uint8Array(n);
    out.set(this.#bytes.subarray(this.at, this.at + n));
    this.at += n;
    return out;
  }

  ids(what: string): NodeId[] {
    const n = this.count(8, what);
    const out: NodeId[] = new Array<NodeId>(n);
    for (let i = 0; i < n; i++) out[i] = this.id(what);
    return out;
  }

  message(): Message {
    const version = this.u8('version');
    if (version !== VERSION) this.fail(`unknown version ${version}`);
    const code = this.u8('type');
    const type = TYPE_CODES[code] ?? this.fail(`unknown message type code ${code}`);
    this.need(2, 'flags');
    const flags = this.#view.getUint16(this.at);
    this.at += 2;
    if ((flags & ~F_ALL) !== 0 || (flags & (F_REJECT | F_REJECT_TRUE)) === F_REJECT_TRUE) {
      this.fail(`bad flags 0x${flags.toString(16)}`);
    }
    const m: Message = { type, to: this.id('to'), from: this.id('from'), term: this.u53('term') };
    if (flags & F_LOG_TERM) m.logTerm = this.u53('logTerm');
    if (flags & F_INDEX) m.index = this.u53('index');
    if (flags & F_ENTRIES) {
      const n = this.count(ENTRY_FIXED_BYTES, 'entries');
      const entries: Entry[] = [];
      for (let i = 0; i < n; i++) entries.push(this.entry());
      m.entries = entries;
    }
    if (flags & F_COMMIT) m.commit = this.u53('commit');
    if (flags & F_SNAPSHOT) m.snapshot = this.snapshot();
    if (flags & F_REJECT) m.reject = (flags & F_REJECT_TRUE) !== 0;
    if (flags & F_REJECT_HINT) m.rejectHint = this.u53('rejectHint');
    if (flags & F_CONTEXT) m.context = this.bytes('context');
    return m;
  }

  entry(): Entry {
    const code = this.u8('entry type');
    const type = ENTRY_TYPES[code] ?? this.fail(`unknown entry type code ${code}`);
    const term = this.u53('entry term');
    const index = this.u53('entry index');
    return { term, index, type, data: this.bytes('entry data') };
  }

  snapshot(): Snapshot {
    const index = this.u53('snapshot index');
    const term = this.u53('snapshot term');
    const confState: ConfState = {
      voters: this.ids('voters'),
      learners: this.ids('learners'),
      votersOutgoing: this.ids('votersOutgoing'),
      learnersNext: this.ids('learnersNext'),
      autoLeave: false,
    };
    const autoLeave = this.u8('autoLeave');
    if (autoLeave > 1) this.fail(`autoLeave byte ${autoLeave}`);
    confState.autoLeave = autoLeave === 1;
    return { data: this.bytes('snapshot data'), metadata: { confState, index, term } };
  }
}
