// The simulator's view of the Raft core: the RawNode surface it drives, and the factory that
// builds one. Members receive a factory, so a test can wrap the core (or, before it existed,
// stand in for it) without the rest of the simulator knowing.
import type { ConfChange, ConfState, Message, NodeId } from '../../src/raft/messages.ts';
import type { RaftConfig } from '../../src/raft/config.ts';
import type { ProposalResult, Ready, Status } from '../../src/raft/ready.ts';
import { RawNode } from '../../src/raft/raw-node.ts';

export { decodeConfChange, encodeConfChange } from '../../src/raft/confchange/conf-change.ts';

/** The RawNode operations the simulator uses (etcd's RawNode surface). */
export interface RaftNode {
  tick(): void;
  campaign(): ProposalResult;
  propose(data: Uint8Array): ProposalResult;
  proposeConfChange(cc: ConfChange): ProposalResult;
  applyConfChange(cc: ConfChange): ConfState;
  step(m: Message): ProposalResult;
  readIndex(context: Uint8Array): ProposalResult;
  transferLeadership(to: NodeId): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(rd: Ready): void;
  status(): Status;
  reportUnreachable(id: NodeId): void;
  reportSnapshot(id: NodeId, ok: boolean): void;
  checkInvariants(): void;
}

/** Builds a node from its configuration. */
export type NodeFactory = (config: RaftConfig) => RaftNode;

/** The real core. */
export const rawNodeFactory: NodeFactory = (config) => new RawNode(config);
