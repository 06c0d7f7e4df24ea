// The tunables of one Raft node, each with its unit and what it trades, and their validation.
import type { Rng } from '../util/rng.ts';
import type { NodeId } from './messages.ts';
import type { Storage } from './storage.ts';

/** How ReadIndex requests are confirmed. */
export const ReadOnlyOption = {
  /** The leader confirms it is still leader with a heartbeat round to a quorum (linearizable). */
  Safe: 'safe',
  /** The leader trusts its lease (needs CheckQuorum; unsafe under unbounded clock drift). */
  LeaseBased: 'lease-based',
} as const;
export type ReadOnlyOption = (typeof ReadOnlyOption)[keyof typeof ReadOnlyOption];

/**
 * Deliberately broken behaviours, for tests only: they prove the simulator's checkers catch bugs.
 * Never set outside tests.
 */
export interface RaftFaults {
  /** Grant a vote even when already voted for another candidate in this term. */
  voteTwice?: boolean;
  /** Commit entries of previous terms by counting replicas (Raft §5.4.2 forbids it). */
  commitPreviousTerm?: boolean;
  /** The leader commits what it alone has persisted, without a quorum (acknowledges writes too early). */
  commitAlone?: boolean;
}

/** Configuration of one node. */
export interface RaftConfig {
  id: NodeId;
  storage: Storage;
  /**
   * Ticks without hearing from a leader before a follower campaigns; the randomized timeout is in
   * [electionTicks, 2*electionTicks). Larger: fewer spurious elections, slower failover.
   */
  electionTicks: number;
  /** Ticks between a leader's heartbeats; must be smaller than electionTicks. */
  heartbeatTicks: number;
  /** The last applied index, when restarting (entries at or below it are not handed out again). */
  applied?: number;
  /** Bytes of entries in one append message. Larger: fewer messages, bigger bursts on recovery. */
  msgBytesMax: number;
  /** Append messages in flight per follower while replicating. Larger: more throughput, more memory. */
  inflightMsgsMax: number;
  /** Bytes in flight per follower (0: unbounded). */
  inflightBytesMax?: number;
  /** Payload bytes of uncommitted entries a leader accepts before dropping proposals (0: unbounded). */
  uncommittedBytesMax?: number;
  /** Bytes of committed entries handed out in one Ready (0: unbounded). */
  committedBytesPerReadyMax?: number;
  /** A leader that hears from no quorum within an election timeout steps down. */
  checkQuorum: boolean;
  /** Run a pre-election first, so a partitioned node cannot disrupt the cluster with term bumps. */
  preVote: boolean;
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /** The source of randomized election timeouts. */
  rng: Rng;
  /** Test-only broken behaviours. */
  faults?: RaftFaults;
}

/** Limits that suit a member on a LAN (etcd's defaults where etcd has one). */
export const defaultRaftLimits = {
  msgBytesMax: 1024 * 1024,
  inflightMsgsMax: 256,
  inflightBytesMax: 0,
  uncommittedBytesMax: 1 << 30,
  committedBytesPerReadyMax: 64 * 1024 * 1024,
} as const;

/** Checks a configuration's values and their relationships; throws a RangeError naming the field. */
export function validateConfig(config: RaftConfig): void {
  if (config.id === 0n) throw new RangeError('raft config: id must not be 0');
  if (!(config.heartbeatTicks > 0)) throw new RangeError('raft config: heartbeatTicks must be > 0');
  if (!(config.electionTicks > config.heartbeatTicks)) {
    throw new RangeError('raft config: electionTicks must be greater than heartbeatTicks');
  }
  if (!(config.inflightMsgsMax > 0)) throw new RangeError('raft config: inflightMsgsMax must be > 0');
  if (!(config.msgBytesMax > 0)) throw new RangeError('raft config: msgBytesMax must be > 0');
  const inflightBytes = config.inflightBytesMax ?? 0;
  if (inflightBytes !== 0 && inflightBytes < config.msgBytesMax) {
    throw new RangeError('raft config: inflightBytesMax must be 0 or ≥ msgBytesMax');
  }
  if (config.readOnlyOption === ReadOnlyOption.LeaseBased && !config.checkQuorum) {
    throw new RangeError('raft config: lease-based reads need checkQuorum');
  }
}
