// The world a scenario runs in: nodes (a RawNode over a ScenarioStorage, a MemoryStorage, each),
// the messages sent and not yet delivered (queued per recipient, in send order), network cuts,
// and the output log.
// Every action on a node is followed by `observe`, which prints what changed (role, term, leader,
// configuration, transfer) and checks the core's invariants, so outputs read as a story.
import type { RaftConfig } from '../../../src/raft/config.ts';
import { ReadOnlyOption } from '../../../src/raft/config.ts';
import { describeConfState } from '../../../src/raft/describe.ts';
import { type Message, type NodeId, NONE } from '../../../src/raft/messages.ts';
import { RawNode } from '../../../src/raft/raw-node.ts';
import type { ProposalResult, StateRole } from '../../../src/raft/ready.ts';
import { SeededRng } from '../../../src/util/rng.ts';
import type { ScenarioStorage } from './storage.ts';

/** How a node is configured (add-nodes options); kept so `restart` rebuilds it the same way. */
export interface NodeOptions {
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  readOnlyOption: ReadOnlyOption;
  msgBytesMax: number;
  inflightMsgsMax: number;
  uncommittedBytesMax: number;
  disableProposalForwarding: boolean;
}

/** The defaults: etcd's interaction-test values (election 10 ticks, heartbeat 1 tick). */
export const defaultNodeOptions: NodeOptions = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: false,
  checkQuorum: false,
  readOnlyOption: ReadOnlyOption.Safe,
  msgBytesMax: 1024 * 1024,
  inflightMsgsMax: 256,
  uncommittedBytesMax: 0,
  disableProposalForwarding: false,
};

/** What `observe` last saw of a node. */
interface Observed {
  role: StateRole;
  term: number;
  lead: NodeId;
  conf: string;
  transferee: NodeId;
}

/** One node of the scenario. */
export interface ScenarioNode {
  readonly id: NodeId;
  rawNode: RawNode;
  readonly storage: ScenarioStorage;
  readonly options: NodeOptions;
  observed: Observed;
}

const roleWords: Record<StateRole, string> = {
  Leader: 'leader',
  Follower: 'follower',
  Candidate: 'candidate',
  PreCandidate: 'pre-candidate',
};

/** The scenario world. Commands read and change it; `takeOutput` collects what they printed. */
export class ScenarioEnv {
  readonly nodes = new Map<NodeId, ScenarioNode>();
  /** Messages sent and not yet delivered, by recipient, in send order. */
  readonly #inFlight = new Map<NodeId, Message[]>();
  readonly #isolated = new Set<NodeId>();
  /** Partition groups: nodes in different groups cannot talk. Empty: no partition. */
  #groups = new Map<NodeId, number>();
  #out: string[] = [];

  /**
   * Prints a line of output. Trailing blanks are cut: editors strip them from scripts, and
   * describe.ts may leave one (an empty conf change is described as `conf `).
   */
  print(line: string, indent = 0): void {
    this.#out.push((' '.repeat(indent) + line).trimEnd());
  }

  /** The output printed since the last call. */
  takeOutput(): string[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  /** The node `id`; throws when there is none. */
  node(id: NodeId): ScenarioNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** All node ids in ascending order. */
  ids(): NodeId[] {
    return Array.from(this.nodes.keys()).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** `ids` when given, else every node. */
  idsOr(ids: readonly NodeId[]): NodeId[] {
    return ids.length > 0 ? ids.slice() : this.ids();
  }

  /** Builds a RawNode over `storage`; its rng is seeded by its id, so runs are deterministic. */
  createRawNode(id: NodeId, storage: ScenarioStorage, options: NodeOptions): RawNode {
    const config: RaftConfig = {
      id,
      storage,
      electionTicks: options.electionTicks,
      heartbeatTicks: options.heartbeatTicks,
      msgBytesMax: options.msgBytesMax,
      inflightMsgsMax: options.inflightMsgsMax,
      uncommittedBytesMax: options.uncommittedBytesMax,
      checkQuorum: options.checkQuorum,
      preVote: options.preVote,
      readOnlyOption: options.readOnlyOption,
      disableProposalForwarding: options.disableProposalForwarding,
      rng: new SeededRng(Number(id)),
    };
    return new RawNode(config);
  }

  /** Installs (or replaces, on restart) node `id` and prints its starting state. */
  install(id: NodeId, storage: ScenarioStorage, options: NodeOptions, verb: string): ScenarioNode {
    storage.resetApplied();
    const rawNode = this.createRawNode(id, storage, options);
    const node: ScenarioNode = { id, rawNode, storage, options, observed: observe(rawNode) };
    this.nodes.set(id, node);
    const st = rawNode.status();
    const lastTerm = rawNode.raft.log.lastTerm();
    const hs = st.hardState;
    this.print(
      `${id} ${verb}: term=${hs.term} vote=${hs.vote} commit=${hs.commit} applied=${st.applied} ` +
        `last=${lastTerm}/${st.lastIndex} ${describeConfState(st.confState)}`,
    );
    return node;
  }

  // ---- the network ----

  /**
   * Puts a message on the wire (a copy: the network serializes, nothing is shared). A message to
   * a node that does not exist (yet) is lost, as a transport with no address for it would lose it.
   */
  send(m: Message): void {
    if (!this.nodes.has(m.to)) return;
    let queue = this.#inFlight.get(m.to);
    if (queue === undefined) {
      queue = [];
      this.#inFlight.set(m.to, queue);
    }
    queue.push(structuredClone(m));
  }

  /** Removes and returns the messages to `to` that `keep` selects (all by default), in order. */
  takeMessages(to: NodeId, keep: (m: Message) => boolean = () => true): Message[] {
    const queue = this.#inFlight.get(to) ?? [];
    const taken = queue.filter(keep);
    this.#inFlight.set(to, queue.filter((m) => !keep(m)));
    return taken;
  }

  /** The number of messages waiting for `to`. */
  inFlightCount(to: NodeId): number {
    return this.#inFlight.get(to)?.length ?? 0;
  }

  /** Whether a message from `from` reaches `to` (isolation and partitions cut links). */
  connected(from: NodeId, to: NodeId): boolean {
    if (this.#isolated.has(from) || this.#isolated.has(to)) return false;
    if (this.#groups.size === 0) return true;
    return this.#groups.get(from) === this.#groups.get(to);
  }

  /** Cuts `id` off from every other node. */
  isolate(id: NodeId): void {
    this.#isolated.add(id);
  }

  /** Splits the nodes into groups that cannot talk to each other; unlisted nodes form one more. */
  partition(groups: readonly NodeId[][]): void {
    this.#groups = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.#groups.set(id, i + 1)));
    for (const id of this.ids()) if (!this.#groups.has(id)) this.#groups.set(id, 0);
  }

  /** Restores links: of `ids` only (isolation), or all of them. */
  heal(ids: readonly NodeId[]): void {
    if (ids.length === 0) {
      this.#isolated.clear();
      this.#groups = new Map();
      return;
    }
    for (const id of ids) this.#isolated.delete(id);
  }

  /** How `id` is cut off, for raft-state: ` isolated`, ` partition=N`, or nothing. */
  cutLabel(id: NodeId): string {
    if (this.#isolated.has(id)) return ' isolated';
    const group = this.#groups.get(id);
    return group === undefined ? '' : ` partition=${group}`;
  }

  // ---- observing ----

  /** Prints what changed on `node` since it was last observed, then checks its invariants. */
  observe(node: ScenarioNode, indent = 0): void {
    const now = observe(node.rawNode);
    const was = node.observed;
    node.observed = now;
    const id = node.id;
    if (now.role !== was.role || now.term !== was.term) {
      this.print(`${id} became ${roleWords[now.role]} at term ${now.term}`, indent);
    }
    if (now.lead !== was.lead && now.lead !== NONE && now.lead !== id) {
      this.print(`${id} follows leader ${now.lead} at term ${now.term}`, indent);
    }
    if (now.conf !== was.conf) this.print(`${id} switched to configuration ${now.conf}`, indent);
    if (now.transferee !== was.transferee) {
      if (was.transferee !== NONE) {
        this.print(`${id} stopped transferring leadership to ${was.transferee}`, indent);
      }
      if (now.transferee !== NONE) {
        this.print(`${id} is transferring leadership to ${now.transferee}`, indent);
      }
    }
    node.rawNode.checkInvariants();
  }

  /** Prints a dropped proposal or request (nothing when accepted). */
  printResult(result: ProposalResult, indent = 0): void {
    if (!result.ok) this.print(`dropped: ${result.reason}`, indent);
  }
}

function observe(rawNode: RawNode): Observed {
  const st = rawNode.status();
  return {
    role: st.softState.role,
    term: st.hardState.term,
    lead: st.softState.lead,
    conf: describeConfState(st.confState),
    transferee: st.leadTransferee,
  };
}
