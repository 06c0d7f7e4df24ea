// A minimal in-memory cluster for unit tests and the proposal benchmark: every node's Ready is
// carried out synchronously (persist to MemoryStorage, deliver messages to the in-process peers).
// No faults: the simulator (test/sim) is where faults live.
import { SeededRng } from '../../src/util/rng.ts';
import { RawNode } from '../../src/raft/raw-node.ts';
import { MemoryStorage } from '../../src/raft/storage.ts';
import { type Entry, type Message, type NodeId, emptyConfState } from '../../src/raft/messages.ts';
import type { RaftConfig } from '../../src/raft/config.ts';
import type { ReadState } from '../../src/raft/ready.ts';

/** One node of the in-memory cluster. */
export interface MemNode {
  id: NodeId;
  node: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  readStates: ReadState[];
}

/** Builds `size` nodes bootstrapped with a snapshot at index 1 listing all of them as voters. */
export function memCluster(size: number, overrides: Partial<RaftConfig> = {}): MemCluster {
  const ids = Array.from({ length: size }, (_, i) => BigInt(i + 1));
  const nodes = ids.map((id) => {
    const storage = new MemoryStorage();
    storage.applySnapshot({ data: new Uint8Array(0), metadata: { index: 1, term: 1, confState: { ...emptyConfState(), voters: ids } } });
    const node = new RawNode({
      id,
      storage,
      electionTicks: 10,
      heartbeatTicks: 1,
      msgBytesMax: 1024 * 1024,
      inflightMsgsMax: 256,
      checkQuorum: true,
      preVote: true,
      rng: new SeededRng(Number(id)),
      ...overrides,
    });
    return { id, node, storage, applied: [] as Entry[], readStates: [] as ReadState[] };
  });
  return new MemCluster(nodes);
}

/** A set of nodes exchanging messages in memory. */
export class MemCluster {
  readonly nodes: MemNode[];
  #queue: Message[] = [];
  /** Keep applied entries (tests) or only count them (benchmarks). */
  keepApplied = true;
  appliedCount = 0;

  constructor(nodes: MemNode[]) {
    this.nodes = nodes;
  }

  get(id: NodeId): MemNode {
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Processes every node's Ready and delivers messages until nothing is left to do. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const n of this.nodes) {
        if (!n.node.hasReady()) continue;
        busy = true;
        this.processReady(n);
      }
      if (this.#queue.length > 0) {
        busy = true;
        const queue = this.#queue;
        this.#queue = [];
        for (const m of queue) this.get(m.to).node.step(m);
      }
      if (!busy) return;
    }
    throw new Error('mem-cluster: did not stabilize');
  }

  processReady(n: MemNode): void {
    const rd = n.node.ready();
    for (const m of rd.messages) this.#queue.push(m);
    if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    for (const m of rd.messagesAfterPersist) this.#queue.push(m);
    for (const rs of rd.readStates) n.readStates.push(rs);
    if (this.keepApplied) for (const e of rd.committedEntries) n.applied.push(e);
    this.appliedCount += rd.committedEntries.length;
    n.node.advance(rd);
  }

  /** Elects node `id` (campaign, then stabilize). */
  elect(id: NodeId): void {
    this.get(id).node.campaign();
    this.stabilize();
  }

  leader(): MemNode | undefined {
    return this.nodes.find((n) => n.node.status().softState.role === 'Leader');
  }
}
