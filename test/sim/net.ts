// The simulated network: every message between members goes through it. Per message: loss,
// duplication and a random delay in steps (so reordering follows from unequal delays); per link:
// partitions (symmetric groups, one-way cuts, an isolated node, a bridge) until healed.
// Deterministic: all randomness comes from the SeededRng it is given.
import type { Message, NodeId } from '../../src/raft/messages.ts';
import type { SeededRng } from '../../src/util/rng.ts';

/** Per-message behaviour of the network. Rates are probabilities in [0, 1]. */
export interface NetConfig {
  lossRate: number;
  dupRate: number;
  /** A message takes a uniform delay in [delayMinSteps, delayMaxSteps]. */
  delayMinSteps: number;
  delayMaxSteps: number;
  /** The chance a message is held much longer (up to spikeMaxSteps): strong reordering. */
  spikeRate: number;
  spikeMaxSteps: number;
}

/** A network that delivers every message after a short delay. */
export const calmNet: NetConfig = {
  lossRate: 0,
  dupRate: 0,
  delayMinSteps: 1,
  delayMaxSteps: 4,
  spikeRate: 0,
  spikeMaxSteps: 0,
};

interface InFlight {
  at: number;
  seq: number;
  msg: Message;
  lost: boolean;
}

/** A message whose time has come; `lost` ones are dropped on arrival (the sender learns of it then). */
export interface Arrival {
  msg: Message;
  lost: boolean;
}


/** Counters of what the network did, for the run summary. */
export interface NetStats {
  sent: number;
  lost: number;
  cut: number;
  duplicated: number;
  reordered: number;
}

const linkKey = (from: NodeId, to: NodeId): number => Number(from) * 65536 + Number(to);

/** The network: a delay queue (binary heap ordered by arrival step, then send order) plus links. */
export class Network {
  #config: NetConfig;
  readonly #rng: SeededRng;
  readonly #heap: InFlight[] = [];
  readonly #blocked = new Set<number>();
  #seq = 0;
  /** The latest arrival step handed out per link, to count reorderings. */
  readonly #lastArrival = new Map<number, number>();
  readonly stats: NetStats = { sent: 0, lost: 0, cut: 0, duplicated: 0, reordered: 0 };

  constructor(rng: SeededRng, config: NetConfig) {
    this.#rng = rng;
    this.#config = { ...config };
  }

  get config(): NetConfig {
    return this.#config;
  }

  /** Replaces the per-message behaviour (the liveness phase calms the network). */
  configure(config: NetConfig): void {
    this.#config = { ...config };
  }

  /**
   * Queues a message sent at `nowStep`; it may be lost or duplicated. Whether a partition cuts it
   * is decided on arrival (a cut also stops messages already on the wire).
   */
  send(msg: Message, nowStep: number): void {
    this.stats.sent++;
    const c = this.#config;
    const lost = c.lossRate > 0 && this.#rng.float() < c.lossRate;
    if (lost) this.stats.lost++;
    this.#push(nowStep + this.#delay(), msg, lost);
    if (!lost && c.dupRate > 0 && this.#rng.float() < c.dupRate) {
      this.stats.duplicated++;
      // A copy, as a real network delivers bytes: the receiver may fill in fields of what it gets.
      this.#push(nowStep + this.#delay(), copyMessage(msg), false);
    }
  }

  /** The next message due at or before `nowStep`, removed from the queue. */
  nextDue(nowStep: number): Arrival | undefined {
    const top = this.#heap[0];
    if (top === undefined || top.at > nowStep) return undefined;
    return this.#pop();
  }

  /** Messages in flight. */
  get inFlight(): number {
    return this.#heap.length;
  }

  /** True when messages from `from` to `to` are cut. */
  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.#blocked.size > 0 && this.#blocked.has(linkKey(from, to));
  }

  /** True when any link is cut. */
  get partitioned(): boolean {
    return this.#blocked.size > 0;
  }

  /** Cuts every link between members of different groups, both ways (adds to existing cuts). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i]!) for (const b of groups[j]!) this.#blocked.add(linkKey(a, b));
      }
    }
  }

  /** Cuts the link from `from` to `to` only: `to` still reaches `from`. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.#blocked.add(linkKey(from, to));
  }

  /** Cuts `node` off from every other member, both ways. */
  isolate(node: NodeId, all: readonly NodeId[]): void {
    this.partition([[node], all.filter((n) => n !== node)]);
  }

  /**
   * A bridge: `left` and `right` cannot talk to each other, `bridge` talks to both
   * (A-B-C where only B reaches A and C).
   */
  bridge(left: readonly NodeId[], bridge: NodeId, right: readonly NodeId[]): void {
    const l = left.filter((n) => n !== bridge);
    const r = right.filter((n) => n !== bridge);
    this.partition([l, r]);
  }

  /** Restores every link. Messages already in flight keep their arrival time. */
  heal(): void {
    this.#blocked.clear();
  }

  #delay(): number {
    const c = this.#config;
    if (c.spikeRate > 0 && this.#rng.float() < c.spikeRate) {
      return c.delayMaxSteps + 1 + this.#rng.int(Math.max(1, c.spikeMaxSteps - c.delayMaxSteps));
    }
    return c.delayMinSteps + this.#rng.int(c.delayMaxSteps - c.delayMinSteps + 1);
  }

  #push(at: number, msg: Message, lost: boolean): void {
    const key = linkKey(msg.from, msg.to);
    const last = this.#lastArrival.get(key) ?? -1;
    if (at < last) this.stats.reordered++;
    else this.#lastArrival.set(key, at);
    const item: InFlight = { at, seq: this.#seq++, msg, lost };
    const heap = this.#heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  #pop(): InFlight {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const child = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
        if (!before(heap[child]!, last)) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

/** A copy of a message that shares no mutable part with the original. */
export function copyMessage(msg: Message): Message {
  const copy = { ...msg };
  if (msg.entries !== undefined) copy.entries = msg.entries.map((e) => ({ ...e }));
  return copy;
}

function before(a: InFlight, b: InFlight): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
