// Who is in the simulated cluster: every member ever created, and its place — 'joining' (created
// for a change not yet applied), 'member', or 'retired' (left the configuration and stopped).
// Ids are never reused, so a configuration applied at index i that lacks a member added at a
// lower index means that member was removed.
import type { ConfState, NodeId } from '../../src/raft/messages.ts';
import { StateRole } from '../../src/raft/ready.ts';
import type { SimMember } from './member.ts';

/** A member's place in the cluster. */
export type MemberStatus = 'joining' | 'member' | 'retired';

/** The members of one simulation and their status. */
export class Roster {
  readonly #members = new Map<NodeId, SimMember>();
  readonly #status = new Map<NodeId, MemberStatus>();
  /** The lowest index of an applied configuration holding the member. */
  readonly #addedAt = new Map<NodeId, number>();

  /** Registers a member; `addedAt` for initial members (in the bootstrap configuration). */
  add(m: SimMember, status: MemberStatus, addedAt?: number): void {
    this.#members.set(m.id, m);
    this.#status.set(m.id, status);
    if (addedAt !== undefined) this.#addedAt.set(m.id, addedAt);
  }

  get(id: NodeId): SimMember | undefined {
    return this.#members.get(id);
  }

  has(id: NodeId): boolean {
    return this.#members.has(id);
  }

  /** Every member ever created. */
  all(): SimMember[] {
    return [...this.#members.values()];
  }

  ids(): NodeId[] {
    return [...this.#members.keys()];
  }

  status(id: NodeId): MemberStatus | undefined {
    return this.#status.get(id);
  }

  isRetired(id: NodeId): boolean {
    return this.#status.get(id) === 'retired';
  }

  /** Marks a member retired; false when it already was. */
  retire(id: NodeId): boolean {
    if (this.isRetired(id)) return false;
    this.#status.set(id, 'retired');
    return true;
  }

  /** Running members that are part of the cluster (clients may talk to them). */
  serving(): SimMember[] {
    const out: SimMember[] = [];
    for (const m of this.#members.values()) if (m.alive && this.#status.get(m.id) === 'member') out.push(m);
    return out;
  }

  /** Running, non-retired members. */
  running(): SimMember[] {
    return this.all().filter((m) => m.alive && !this.isRetired(m.id));
  }

  /** The running leader with the highest term, if any. */
  leader(): SimMember | undefined {
    let best: SimMember | undefined;
    for (const m of this.#members.values()) {
      if (!m.alive || m.role !== StateRole.Leader || this.isRetired(m.id)) continue;
      if (best === undefined || m.hardState.term > best.hardState.term) best = m;
    }
    return best;
  }

  /** A member applied configuration `cs` at `index`: members in it have joined; returns those that left. */
  applyConfState(cs: ConfState, index: number): NodeId[] {
    const inConf = new Set<NodeId>([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext]);
    for (const id of inConf) {
      const at = this.#addedAt.get(id);
      if (at === undefined || index < at) this.#addedAt.set(id, index);
      if (this.#status.get(id) === 'joining') this.#status.set(id, 'member');
    }
    const left: NodeId[] = [];
    for (const [id, status] of this.#status) {
      const at = this.#addedAt.get(id);
      if (status !== 'retired' && !inConf.has(id) && at !== undefined && index > at) left.push(id);
    }
    return left;
  }
}
