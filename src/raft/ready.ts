// What the Raft core hands to its caller: the Ready batch, soft state, read states and status.
import type { Entry, HardState, Message, NodeId, Snapshot, ConfState } from './messages.ts';

/** A node's role. */
export const StateRole = {
  Follower: 'Follower',
  Candidate: 'Candidate',
  Leader: 'Leader',
  PreCandidate: 'PreCandidate',
} as const;
export type StateRole = (typeof StateRole)[keyof typeof StateRole];

/** Volatile state worth reporting (not persisted). */
export interface SoftState {
  lead: NodeId;
  role: StateRole;
}

/** A ReadIndex request that is ready: once applied ≥ index, reads for `context` are linearizable. */
export interface ReadState {
  index: number;
  context: Uint8Array;
}

/**
 * Everything the caller must do, in this order:
 *   1. send `messages` (a leader may replicate before its own fsync);
 *   2. persist `snapshot` (if any), `entries` and `hardState` — one sync when `mustSync`;
 *   3. send `messagesAfterPersist` (acknowledgements and votes depend on the data being durable);
 *   4. apply `snapshot` then `committedEntries` to the state machine;
 *   5. call `advance(ready)`.
 */
export interface Ready {
  /** Present when changed since the last Ready. */
  softState?: SoftState;
  /** Present when changed since the last Ready. */
  hardState?: HardState;
  readStates: ReadState[];
  /** Unstable entries to persist. */
  entries: Entry[];
  /** A snapshot to persist and apply, from the leader. */
  snapshot?: Snapshot;
  /** Entries committed and not yet handed out, to apply in order. */
  committedEntries: Entry[];
  messages: Message[];
  messagesAfterPersist: Message[];
  /** Whether the hard state or entries must reach disk with a sync before step 3. */
  mustSync: boolean;
}

/** Replication state of one peer, as seen by the leader. */
export interface ProgressStatus {
  match: number;
  next: number;
  state: 'probe' | 'replicate' | 'snapshot';
  isLearner: boolean;
  recentActive: boolean;
  pendingSnapshot: number;
  inflight: number;
}

/** A read-only view of a node. */
export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  lastIndex: number;
  confState: ConfState;
  /** Only on the leader. */
  progress: Map<NodeId, ProgressStatus>;
  leadTransferee: NodeId;
}

/** The outcome of a local proposal or request: accepted for processing, or dropped and why. */
export type ProposalResult = { ok: true } | { ok: false; reason: ProposalDropReason };

/** Why a proposal was dropped. */
export const ProposalDropReason = {
  /** No leader is known (election in progress, or partitioned). */
  NoLeader: 'no-leader',
  /** A leadership transfer is in progress. */
  TransferInProgress: 'transfer-in-progress',
  /** A configuration change is still pending (not yet applied), or the joint state not yet left. */
  ConfChangePending: 'conf-change-pending',
  /** The node is not a member of the configuration (or a learner asked to campaign). */
  NotMember: 'not-member',
  /** Forwarding to the leader is disabled. */
  ForwardingDisabled: 'forwarding-disabled',
  /** Too many uncommitted bytes on the leader. */
  UncommittedLimit: 'uncommitted-limit',
  /** The change is invalid for the current configuration. */
  InvalidConfChange: 'invalid-conf-change',
} as const;
export type ProposalDropReason = (typeof ProposalDropReason)[keyof typeof ProposalDropReason];
