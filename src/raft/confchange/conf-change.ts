// Configuration changes as entries carry them: how one is carried out (simple, joint, leaving a
// joint state), its binary encoding, and a compact text form for logs and scripts.
// The encoding is etcd's raftpb.ConfChangeV2 protobuf, written canonically (fields in order,
// context omitted when empty), so encode is deterministic and entries stay readable by etcd tools.
import {
  type ConfChange,
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
} from '../messages.ts';

/**
 * How `cc` is carried out (etcd's ConfChangeV2.EnterJoint): joint consensus when asked for
 * explicitly or when more than one change is made at once; then the joint state is left
 * automatically unless the transition is explicit.
 */
export function enterJointOf(cc: ConfChange): { autoLeave: boolean; useJoint: boolean } {
  if (cc.transition === ConfChangeTransition.Auto && cc.changes.length <= 1) {
    return { autoLeave: false, useJoint: false };
  }
  return { autoLeave: cc.transition !== ConfChangeTransition.JointExplicit, useJoint: true };
}

/**
 * True when `cc` asks to leave a joint state: no changes and the auto transition (as etcd's
 * ConfChangeV2.LeaveJoint; the context is ignored). An explicit or implicit transition with no
 * changes is not a leave: it would enter a joint state with equal halves.
 */
export function leavesJoint(cc: ConfChange): boolean {
  return cc.changes.length === 0 && cc.transition === ConfChangeTransition.Auto;
}

// Protobuf numbering of raftpb's enums.
const transitionCodes: Record<ConfChangeTransition, number> = { auto: 0, implicit: 1, explicit: 2 };
const transitionsByCode: readonly ConfChangeTransition[] = ['auto', 'implicit', 'explicit'];
const typeCodes: Record<ConfChangeType, number> = { AddNode: 0, RemoveNode: 1, AddLearnerNode: 3 };
const typesByCode: ReadonlyMap<number, ConfChangeType> = new Map([
  [0, ConfChangeType.AddNode],
  [1, ConfChangeType.RemoveNode],
  [3, ConfChangeType.AddLearnerNode],
]);
const UPDATE_NODE_CODE = 2;
const UINT64_LIMIT = 1n << 64n;

/** The bytes of `cc` (raftpb.ConfChangeV2). Equal changes give equal bytes. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out: number[] = [];
  out.push(0x08);
  pushVarint(out, BigInt(transitionCodes[cc.transition]));
  for (const change of cc.changes) {
    if (change.nodeId < 0n || change.nodeId >= UINT64_LIMIT) {
      throw new RangeError(`confchange: node id ${change.nodeId} is not a uint64`);
    }
    const single: number[] = [0x08];
    pushVarint(single, BigInt(typeCodes[change.type]));
    single.push(0x10);
    pushVarint(single, change.nodeId);
    out.push(0x12);
    pushVarint(out, BigInt(single.length));
    for (const b of single) out.push(b);
  }
  if (cc.context.length > 0) {
    out.push(0x1a);
    pushVarint(out, BigInt(cc.context.length));
  }
  const bytes = new Uint8Array(out.length + cc.context.length);
  bytes.set(out);
  bytes.set(cc.context, out.length);
  return bytes;
}

/** Decodes `encodeConfChange`'s output (or any valid ConfChangeV2); throws on malformed input. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  const reader: Reader = new Reader(data);
  const cc: ConfChange = { transition: 'auto', changes: [], context: new Uint8Array(0) };
  while (!reader.done()) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === 0) {
      const code = Number(reader.varint());
      const transition = transitionsByCode[code];
      if (transition === undefined) reader.fail(`unknown transition ${code}`);
      cc.transition = transition;
    } else if (field === 2 && wireType === 2) {
      cc.changes.push(decodeSingle(new Reader(reader.bytes())));
    } else if (field === 3 && wireType === 2) {
      cc.context = reader.bytes().slice();
    } else if (field >= 1 && field <= 3) {
      reader.fail(`field ${field} has wire type ${wireType}`);
    } else {
      reader.skip(wireType);
    }
  }
  return cc;
}

function decodeSingle(reader: Reader): ConfChangeSingle {
  let type: ConfChangeType = ConfChangeType.AddNode;
  let nodeId = 0n;
  while (!reader.done()) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === 0) {
      const code = Number(reader.varint());
      const decoded = typesByCode.get(code);
      if (decoded === undefined) {
        reader.fail(
          code === UPDATE_NODE_CODE
            ? 'UpdateNode changes are not supported'
            : `unknown change type ${code}`,
        );
      }
      type = decoded;
    } else if (field === 2 && wireType === 0) {
      nodeId = reader.varint();
    } else if (field === 1 || field === 2) {
      reader.fail(`change field ${field} has wire type ${wireType}`);
    } else {
      reader.skip(wireType);
    }
  }
  return { type, nodeId };
}

function pushVarint(out: number[], value: bigint): void {
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** A cursor over protobuf bytes that throws a descriptive Error at the first inconsistency. */
class Reader {
  #data: Uint8Array;
  #pos = 0;

  constructor(data: Uint8Array) {
    this.#data = data;
  }

  done(): boolean {
    return this.#pos >= this.#data.length;
  }

  fail(detail: string): never {
    throw new Error(`confchange: cannot decode conf change: ${detail} at byte ${this.#pos}`);
  }

  tag(): { field: number; wireType: number } {
    const tag = this.varint();
    const field = Number(tag >> 3n);
    if (field === 0) this.fail('field number 0');
    return { field, wireType: Number(tag & 7n) };
  }

  varint(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.done()) this.fail('truncated varint');
      const b = this.#data[this.#pos++]!;
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (value >= UINT64_LIMIT) this.fail('varint overflows 64 bits');
        return value;
      }
    }
    return this.fail('varint longer than 10 bytes');
  }

  bytes(): Uint8Array {
    const length = this.varint();
    if (length > BigInt(this.#data.length - this.#pos)) this.fail(`length ${length} past the end`);
    const start = this.#pos;
    this.#pos += Number(length);
    return this.#data.subarray(start, this.#pos);
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1 || wireType === 5) {
      const size = wireType === 1 ? 8 : 4;
      if (this.#pos + size > this.#data.length) this.fail('truncated fixed-width field');
      this.#pos += size;
    } else this.fail(`unsupported wire type ${wireType}`);
  }
}

const letters: Record<ConfChangeType, string> = {
  AddNode: 'v',
  AddLearnerNode: 'l',
  RemoveNode: 'r',
};
const typesByLetter: ReadonlyMap<string, ConfChangeType> = new Map([
  ['v', ConfChangeType.AddNode],
  ['l', ConfChangeType.AddLearnerNode],
  ['r', ConfChangeType.RemoveNode],
]);

/**
 * A compact form for logs: "v2 l3 r4" (v: add voter, l: add learner, r: remove), followed by
 * "transition=implicit" or "transition=explicit" unless auto. Leaving a joint state is "".
 * The context is not shown.
 */
export function describeConfChange(cc: ConfChange): string {
  const parts = cc.changes.map((c) => `${letters[c.type]}${c.nodeId}`);
  if (cc.transition !== ConfChangeTransition.Auto) parts.push(`transition=${cc.transition}`);
  return parts.join(' ');
}

/** Parses whitespace-separated change tokens ("v2 l3 r4"); throws on anything else. */
export function confChangesFromString(s: string): ConfChangeSingle[] {
  const changes: ConfChangeSingle[] = [];
  for (const token of s.trim().split(/\s+/)) {
    if (token === '') continue;
    const type = typesByLetter.get(token[0]!);
    const digits = token.slice(1);
    if (type === undefined || !/^[0-9]+$/.test(digits)) {
      const quoted = JSON.stringify(token);
      throw new Error(`confchange: cannot parse change ${quoted}: want v<id>, l<id> or r<id>`);
    }
    const nodeId = BigInt(digits);
    if (nodeId >= UINT64_LIMIT) throw new Error(`confchange: node id ${digits} is not a uint64`);
    changes.push({ type, nodeId });
  }
  return changes;
}

/** The inverse of describeConfChange (context empty): change tokens and an optional transition. */
export function confChangeFromString(s: string): ConfChange {
  let transition: ConfChangeTransition = ConfChangeTransition.Auto;
  const tokens: string[] = [];
  for (const token of s.trim().split(/\s+/)) {
    if (!token.startsWith('transition=')) {
      tokens.push(token);
      continue;
    }
    const value = token.slice('transition='.length);
    const found = transitionsByCode.find((t) => t === value);
    if (found === undefined) {
      throw new Error(`confchange: unknown transition ${JSON.stringify(value)}`);
    }
    transition = found;
  }
  const changes = confChangesFromString(tokens.join(' '));
  return { transition, changes, context: new Uint8Array(0) };
}
