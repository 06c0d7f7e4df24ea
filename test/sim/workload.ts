// Simulated clients: each keeps one operation in flight (put, get, cas or delete over a small key
// set) against the member it believes is leader, retries elsewhere when a request is refused, and
// gives up after a timeout (an unknown outcome). Writes are proposed; gets go through ReadIndex
// and read the member's state once it has applied the read index. The history feeds the
// linearizability checker; call/return stamps come from the simulator's strictly increasing clock.
import type { Entry, NodeId } from '../../src/raft/messages.ts';
import type { ReadState } from '../../src/raft/ready.ts';
import type { SeededRng } from '../../src/util/rng.ts';
import type { KvInput, KvOperation, KvOutput } from './checkers/kv-model.ts';
import type { SafetyChecker } from './checkers/safety.ts';
import { type KvApplied, type KvCommand, encodeCommand } from './kv.ts';
import type { SimMember } from './member.ts';

/** What the clients need from the simulator. */
export interface WorkloadHost {
  readonly checker: SafetyChecker;
  /** The current tick. */
  tick(): number;
  /** A strictly increasing timestamp. */
  stamp(): number;
  /** Members that are running and part of the cluster. */
  serving(): SimMember[];
  member(id: NodeId): SimMember | undefined;
  note(kind: string, text: string | (() => string)): void;
}

/** The shape of the client load. */
export interface WorkloadOptions {
  clients: number;
  keys: number;
  /** Ticks a client waits for an answer before it gives up (unknown outcome). */
  timeoutTicks: number;
  /** Ticks a client pauses between operations, at most. */
  thinkTicksMax: number;
  /** Test-only: gets read the member's local state at once, skipping ReadIndex (stale reads). */
  localReads?: boolean;
}

interface Pending {
  input: KvInput;
  seq: number;
  call: number;
  deadline: number;
  /** The member serving the current attempt, if any. */
  member: NodeId | undefined;
  attempt: number;
  readIndex: number | undefined;
}

interface Client {
  id: number;
  seq: number;
  target: NodeId | undefined;
  pending: Pending | undefined;
  nextTick: number;
}

/** Counters for the run summary. */
export interface WorkloadStats {
  ok: number;
  unknown: number;
  refused: number;
  reads: number;
}

const encoder = new TextEncoder();
/** One number per (client, sequence number). */
const opKey = (client: number, seq: number): number => client * 0x1_0000_0000 + seq;
const decoder = new TextDecoder();

/** The clients of one run and the history they record. */
export class Workload {
  readonly #rng: SeededRng;
  readonly #opts: WorkloadOptions;
  readonly #host: WorkloadHost;
  readonly #clients: Client[] = [];
  readonly #history: KvOperation[] = [];
  /** The first application of each write, by client and sequence number. */
  readonly #firstApplyByKey = new Map<number, { stamp: number; output: KvOutput }>();
  /** The client and sequence number of each recorded write. */
  readonly #seqOf = new Map<KvOperation, number>();
  readonly stats: WorkloadStats = { ok: 0, unknown: 0, refused: 0, reads: 0 };
  /** Clients stop issuing new operations (the final phase of a run). */
  paused = false;

  constructor(rng: SeededRng, opts: WorkloadOptions, host: WorkloadHost) {
    this.#rng = rng;
    this.#opts = opts;
    this.#host = host;
    for (let i = 0; i < opts.clients; i++) {
      this.#clients.push({ id: i + 1, seq: 0, target: undefined, pending: undefined, nextTick: 0 });
    }
  }

  /**
   * The recorded history. Writes whose client never learned the outcome (timed out, or still in
   * flight at the end) are resolved from what the cluster did: one never applied anywhere never
   * took effect (the run is over) and is left out; one that was applied gets the output of its
   * first application and that moment as its return (its effect was visible from then on).
   * This keeps the check exact and its search small.
   */
  history(): KvOperation[] {
    const out: KvOperation[] = [];
    const open = this.#clients.flatMap((c) =>
      c.pending !== undefined && c.pending.input.op !== 'get' ? [this.#op(c.id, c.pending, Infinity, undefined)] : []);
    for (const op of [...this.#history, ...open]) {
      if (op.return !== Infinity) {
        out.push(op);
        continue;
      }
      const effect = this.#firstApplyByKey.get(this.#seqOf.get(op) ?? -1);
      if (effect !== undefined) out.push({ ...op, return: effect.stamp, output: effect.output });
    }
    return out;
  }

  /** Called once per tick: time out stuck operations, retry refused ones, start new ones. */
  tick(): void {
    const now = this.#host.tick();
    for (const c of this.#clients) {
      const p = c.pending;
      if (p !== undefined && now >= p.deadline) this.#giveUp(c, 'timeout');
      else if (p !== undefined && p.member === undefined) this.#attempt(c, p);
      else if (p === undefined && !this.paused && now >= c.nextTick) this.#start(c);
    }
  }

  /** A member applied a client's command. */
  applied(member: SimMember, entry: Entry, cmd: KvCommand, result: KvApplied): void {
    const c = this.#clients[cmd.c - 1];
    if (!result.duplicate) {
      const key = opKey(cmd.c, cmd.s);
      if (!this.#firstApplyByKey.has(key)) this.#firstApplyByKey.set(key, { stamp: this.#host.stamp(), output: result.output });
    }
    const p = c?.pending;
    if (c === undefined || p === undefined || p.seq !== cmd.s || p.member !== member.id) return;
    if (result.duplicate) return;
    this.#host.checker.onAck(entry.index, entry.term, `write c${c.id}#${p.seq}`);
    this.#finish(c, result.output);
  }

  /** ReadStates arrived at a member: remember the read index of the matching read. */
  readStates(member: SimMember, states: readonly ReadState[]): void {
    for (const rs of states) {
      const [cid, seq, attempt] = decoder.decode(rs.context).split('.').map(Number);
      const c = this.#clients[(cid ?? 0) - 1];
      const p = c?.pending;
      if (p === undefined || p.seq !== seq || p.attempt !== attempt || p.member !== member.id) continue;
      p.readIndex = rs.index;
    }
  }

  /** After a member's Ready loop: answer reads whose read index it has applied. */
  afterReady(member: SimMember): void {
    for (const c of this.#clients) {
      const p = c.pending;
      if (p === undefined || p.member !== member.id || p.readIndex === undefined) continue;
      if (member.applied < p.readIndex || p.input.op !== 'get') continue;
      this.stats.reads++;
      this.#finish(c, { value: member.kv.get(p.input.key) });
    }
  }

  /** A member stopped: its connections drop, outcomes of writes it held are unknown. */
  memberDown(id: NodeId): void {
    for (const c of this.#clients) {
      if (c.pending?.member === id) this.#giveUp(c, `member ${id} went down`);
    }
  }

  #start(c: Client): void {
    const input = this.#nextInput(c);
    const now = this.#host.tick();
    c.seq++;
    c.pending = {
      input,
      seq: c.seq,
      call: this.#host.stamp(),
      deadline: now + this.#opts.timeoutTicks,
      member: undefined,
      attempt: 0,
      readIndex: undefined,
    };
    this.#attempt(c, c.pending);
  }

  /** Sends the operation to the client's target; on refusal, picks another target for next tick. */
  #attempt(c: Client, p: Pending): void {
    const member = this.#pickTarget(c);
    if (member === undefined) return;
    p.attempt++;
    const node = member.node!;
    if (p.input.op === 'get' && this.#opts.localReads === true) {
      p.member = member.id;
      this.#finish(c, { value: member.kv.get(p.input.key) });
      return;
    }
    const result = p.input.op === 'get'
      ? node.readIndex(encoder.encode(`${c.id}.${p.seq}.${p.attempt}`))
      : node.propose(encodeCommand({ c: c.id, s: p.seq, input: p.input }));
    if (result.ok) {
      p.member = member.id;
      member.handleReady();
      return;
    }
    this.stats.refused++;
    // Refused without effect: try the leader this member knows of, or anyone, next tick.
    const lead = member.lead;
    c.target = lead !== 0n && lead !== member.id ? lead : this.#randomServing()?.id;
  }

  #pickTarget(c: Client): SimMember | undefined {
    const target = c.target === undefined ? undefined : this.#host.member(c.target);
    if (target !== undefined && target.alive && this.#host.serving().includes(target)) return target;
    const other = this.#randomServing();
    c.target = other?.id;
    return other;
  }

  #randomServing(): SimMember | undefined {
    const serving = this.#host.serving();
    return serving.length === 0 ? undefined : this.#rng.pick(serving);
  }

  #finish(c: Client, output: KvOutput): void {
    const p = c.pending!;
    this.#history.push(this.#op(c.id, p, this.#host.stamp(), output));
    this.stats.ok++;
    c.pending = undefined;
    c.nextTick = this.#host.tick() + this.#rng.int(this.#opts.thinkTicksMax + 1);
  }

  #giveUp(c: Client, why: string): void {
    const p = c.pending!;
    // A get that never answered observed nothing; a write may still take effect at any time.
    if (p.input.op !== 'get') this.#history.push(this.#op(c.id, p, Infinity, undefined));
    this.stats.unknown++;
    this.#host.note('client', () => `c${c.id}#${p.seq} ${p.input.op} ${p.input.key}: unknown (${why})`);
    c.pending = undefined;
    c.target = undefined;
    c.nextTick = this.#host.tick() + 1;
  }

  #op(clientId: number, p: Pending, ret: number, output: KvOutput | undefined): KvOperation {
    const op = { clientId, input: p.input, call: p.call, return: ret, output };
    this.#seqOf.set(op, opKey(clientId, p.seq));
    return op;
  }

  #nextInput(c: Client): KvInput {
    const rng = this.#rng;
    const key = `k${rng.int(this.#opts.keys)}`;
    const value = `c${c.id}.${c.seq + 1}`;
    const roll = rng.int(100);
    if (roll < 35) return { op: 'get', key };
    if (roll < 65) return { op: 'put', key, value };
    if (roll < 90) {
      // Expect a recent value of the key (often right, sometimes stale) or absence.
      const recent = this.#recentValue(key);
      return { op: 'cas', key, expected: rng.int(4) === 0 ? null : recent, value };
    }
    return { op: 'delete', key };
  }

  #recentValue(key: string): string | null {
    for (let i = this.#history.length - 1, n = 0; i >= 0 && n < 20; i--, n++) {
      const op = this.#history[i]!;
      if (op.input.key !== key || op.output === undefined) continue;
      if (op.input.op === 'put') return op.input.value;
      if (op.input.op === 'cas' && (op.output as { ok: boolean }).ok) return op.input.value;
      if (op.input.op === 'get') return (op.output as { value: string | null }).value;
    }
    return null;
  }
}
