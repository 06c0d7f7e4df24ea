// The plain data the Raft core exchanges: entries, hard state, snapshots, configurations and
// messages. No classes, no methods: values cross the transport, the WAL and the simulator as they are.
// Node ids are 64-bit member ids (bigint); indexes and terms are numbers (safe to 2^53).

/** A member id. `NONE` (0n) means "no node". */
export type NodeId = bigint;
/** The absent node id: no vote, no leader. */
export const NONE: NodeId = 0n;

/** What an entry's data holds. */
export const EntryType = {
  /** Application data (empty data: the leader's no-op of its term). */
  Normal: 'Normal',
  /** A configuration change, `data` encoded by `encodeConfChange`. */
  ConfChange: 'ConfChange',
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One log entry. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** The state that must be durable before a member answers anything that depends on it. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** The voters and learners of a configuration, possibly joint. */
export interface ConfState {
  /** The voters of the incoming (or only) configuration. */
  voters: NodeId[];
  learners: NodeId[];
  /** The voters of the outgoing configuration; non-empty only while joint. */
  votersOutgoing: NodeId[];
  /** Voters of the outgoing configuration that become learners when the joint state is left. */
  learnersNext: NodeId[];
  /** Leave the joint configuration automatically once it is committed. */
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

/** A point-in-time image of the applied state, replacing the log up to `metadata.index`. */
export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

/** The kinds of single change in a configuration change. */
export const ConfChangeType = {
  AddNode: 'AddNode',
  RemoveNode: 'RemoveNode',
  AddLearnerNode: 'AddLearnerNode',
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/**
 * How a configuration change is carried out:
 *   auto      – one step when a single voter changes, else joint consensus left automatically;
 *   implicit  – always joint, left automatically;
 *   explicit  – always joint, left by an empty configuration change the application proposes.
 */
export const ConfChangeTransition = {
  Auto: 'auto',
  JointImplicit: 'implicit',
  JointExplicit: 'explicit',
} as const;
export type ConfChangeTransition = (typeof ConfChangeTransition)[keyof typeof ConfChangeTransition];

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: NodeId;
}

/**
 * A configuration change. No changes at all means "leave the joint configuration".
 * `context` is opaque to Raft (the member stores member attributes there).
 */
export interface ConfChange {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context: Uint8Array;
}

/** Message kinds. Local kinds (Hup, Beat, Prop, ...) never cross the network except Prop when forwarded. */
export const MessageType = {
  Hup: 'Hup',
  Beat: 'Beat',
  Prop: 'Prop',
  App: 'App',
  AppResp: 'AppResp',
  Vote: 'Vote',
  VoteResp: 'VoteResp',
  Snap: 'Snap',
  Heartbeat: 'Heartbeat',
  HeartbeatResp: 'HeartbeatResp',
  Unreachable: 'Unreachable',
  SnapStatus: 'SnapStatus',
  CheckQuorum: 'CheckQuorum',
  TransferLeader: 'TransferLeader',
  TimeoutNow: 'TimeoutNow',
  ReadIndex: 'ReadIndex',
  ReadIndexResp: 'ReadIndexResp',
  PreVote: 'PreVote',
  PreVoteResp: 'PreVoteResp',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/**
 * One Raft message. A flat record (as etcd's raftpb.Message) so the transport can encode every kind
 * the same way; fields a kind does not use are absent.
 *   App:        logTerm/index locate the entry before `entries`; commit is the leader's commit.
 *   AppResp:    index is the last index matched (or the rejected index); rejectHint/logTerm guide back-off.
 *   Vote/PreVote: logTerm/index describe the candidate's last entry; context 'transfer' marks a forced campaign.
 *   Heartbeat:  commit is min(match, leader commit); context carries a ReadIndex request id.
 *   ReadIndex:  entries[0].data carries the request context; ReadIndexResp's index is the read index.
 */
export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  logTerm?: number;
  index?: number;
  entries?: Entry[];
  commit?: number;
  snapshot?: Snapshot;
  reject?: boolean;
  rejectHint?: number;
  context?: Uint8Array;
}

/** An empty configuration. */
export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/** An empty hard state (term 0, no vote, nothing committed). */
export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

/** True when the hard state carries nothing. */
export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

/** True for kinds answering a request (they never make a node step down on a higher term alone). */
export function isResponseMessage(type: MessageType): boolean {
  return (
    type === MessageType.AppResp ||
    type === MessageType.VoteResp ||
    type === MessageType.HeartbeatResp ||
    type === MessageType.Unreachable ||
    type === MessageType.ReadIndexResp ||
    type === MessageType.PreVoteResp
  );
}

/** True for kinds that never leave the node that created them. */
export function isLocalMessage(type: MessageType): boolean {
  return (
    type === MessageType.Hup ||
    type === MessageType.Beat ||
    type === MessageType.Unreachable ||
    type === MessageType.SnapStatus ||
    type === MessageType.CheckQuorum
  );
}

/** The number of bytes an entry counts for in size limits (payload only, as etcd counts it). */
export function entryPayloadBytes(entry: Entry): number {
  return entry.data.length;
}

/** The bytes an entry counts for in per-message limits (payload plus a fixed header estimate). */
export function entryBytes(entry: Entry): number {
  return entry.data.length + 24;
}
