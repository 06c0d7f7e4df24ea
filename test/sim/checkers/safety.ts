// Raft's safety properties, checked incrementally as members persist, commit and apply:
// one leader per term, one vote per term, log matching, leader completeness, state machine
// safety (equal entries and equal state digests at equal applied indexes), monotonic term and
// commit per member (restarts resume from the durable hard state), and acknowledged writes kept.
import type { Entry, HardState, NodeId } from '../../../src/raft/messages.ts';
import { NONE } from '../../../src/raft/messages.ts';
import type { Storage } from '../../../src/raft/storage.ts';
import { Violation, type ViolationKind } from './violation.ts';

interface LoggedEntry {
  term: number;
  type: string;
  data: Uint8Array;
  /** The term of the entry before it in the log that held it; -1 when unknown (compacted). */
  prevTerm: number;
}

interface Ack {
  index: number;
  term: number;
  what: string;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function termAt(storage: Storage, index: number): number | undefined {
  if (index < storage.firstIndex() - 1 || index > storage.lastIndex()) return undefined;
  try {
    return storage.term(index);
  } catch {
    return undefined;
  }
}

const id = (n: NodeId): string => String(n);

/** The incremental safety checker of one simulation run. */
export class SafetyChecker {
  /** Kinds not checked (tests turn one off to show another catches the same bug). */
  readonly #disabled: ReadonlySet<ViolationKind>;
  readonly #leaderOfTerm = new Map<number, NodeId>();
  readonly #voteOfTerm = new Map<string, NodeId>();
  readonly #hardState = new Map<NodeId, HardState>();
  /** Every (index, term) ever persisted by any member: index → entries by term. */
  readonly #logged: (LoggedEntry[] | undefined)[] = [];
  /** Committed entries: index → entry term, and the lowest term in which the commit was seen. */
  readonly #committedTerm: number[] = [];
  readonly #commitSeenTerm: number[] = [];
  #committedUpTo = 0;
  /** Applied entries and the state digest after them, by index. */
  readonly #applied: (Entry | undefined)[] = [];
  readonly #digestAt: (number | undefined)[] = [];
  readonly #acks: Ack[] = [];

  constructor(disabled: Iterable<ViolationKind> = []) {
    this.#disabled = new Set(disabled);
  }

  #check(ok: boolean, kind: ViolationKind, message: () => string): void {
    if (!ok && !this.#disabled.has(kind)) throw new Violation(kind, message());
  }

  /** A member starts (or restarts) from its durable hard state. */
  onStart(member: NodeId, durable: HardState): void {
    this.#hardState.set(member, { ...durable });
  }

  /** A member's new hard state: term and commit never go back, the vote changes only with the term. */
  onHardState(member: NodeId, hs: HardState): void {
    const prev = this.#hardState.get(member);
    if (prev !== undefined) {
      this.#check(hs.term >= prev.term, 'term-monotonic', () =>
        `member ${id(member)} went from term ${prev.term} back to ${hs.term}`);
      this.#check(hs.commit >= prev.commit, 'commit-monotonic', () =>
        `member ${id(member)} commit went from ${prev.commit} back to ${hs.commit}` +
        ' (a restart must resume at least at the durable commit)');
      this.#check(
        hs.term !== prev.term || prev.vote === NONE || hs.vote === prev.vote,
        'vote-once-per-term',
        () => `member ${id(member)} changed its vote in term ${hs.term} from ${id(prev.vote)} to ${id(hs.vote)}`,
      );
    }
    this.#hardState.set(member, { ...hs });
  }

  /** A vote granted on the wire (a VoteResp without reject): one candidate per voter and term. */
  onVoteGranted(voter: NodeId, candidate: NodeId, term: number): void {
    const key = `${id(voter)}@${term}`;
    const before = this.#voteOfTerm.get(key);
    this.#check(before === undefined || before === candidate, 'vote-once-per-term', () =>
      `member ${id(voter)} granted its term-${term} vote to ${id(before!)} and then to ${id(candidate)}`);
    this.#voteOfTerm.set(key, candidate);
  }

  /** A member became leader of `term`; its (fully persisted) log must hold every earlier commit. */
  onLeader(member: NodeId, term: number, storage: Storage): void {
    const other = this.#leaderOfTerm.get(term);
    this.#check(other === undefined || other === member, 'one-leader-per-term', () =>
      `members ${id(other!)} and ${id(member)} were both leader of term ${term}`);
    this.#leaderOfTerm.set(term, member);
    const first = Math.max(1, storage.firstIndex());
    for (let i = first; i <= this.#committedUpTo; i++) {
      if (this.#commitSeenTerm[i]! >= term) continue;
      const have = termAt(storage, i);
      this.#check(have === this.#committedTerm[i], 'leader-completeness', () =>
        `leader ${id(member)} of term ${term} lacks the entry committed at index ${i} ` +
        `(term ${this.#committedTerm[i]}, committed by term ${this.#commitSeenTerm[i]}); ` +
        `its log has ${have === undefined ? 'nothing' : `term ${have}`} there (last index ${storage.lastIndex()})`);
    }
  }

  /** A member persisted entries (its storage already holds them). Same index and term ⇒ same entry and prefix. */
  onPersist(member: NodeId, entries: readonly Entry[], storage: Storage): void {
    if (entries.length === 0) return;
    let prevTerm = termAt(storage, entries[0]!.index - 1) ?? -1;
    for (const e of entries) {
      let at = this.#logged[e.index];
      if (at === undefined) this.#logged[e.index] = at = [];
      const seen = at.find((l) => l.term === e.term);
      if (seen === undefined) {
        at.push({ term: e.term, type: e.type, data: e.data, prevTerm });
      } else {
        this.#check(seen.type === e.type && sameBytes(seen.data, e.data), 'log-matching', () =>
          `member ${id(member)} persisted a different entry at index ${e.index} term ${e.term} than another member`);
        this.#check(seen.prevTerm === -1 || prevTerm === -1 || seen.prevTerm === prevTerm, 'log-matching', () =>
          `member ${id(member)} has entry ${e.index}/${e.term} after term ${prevTerm}, another log after term ${seen.prevTerm}`);
        if (seen.prevTerm === -1) seen.prevTerm = prevTerm;
      }
      prevTerm = e.term;
    }
  }

  /** A member's commit index advanced to `commit` while in `term`. */
  onCommit(member: NodeId, commit: number, term: number, storage: Storage): void {
    for (let i = this.#committedUpTo + 1; i <= commit; i++) {
      const t = termAt(storage, i);
      if (t === undefined) return; // covered by a snapshot; recorded by whoever saw the entry
      this.#committedTerm[i] = t;
      this.#commitSeenTerm[i] = term;
      this.#committedUpTo = i;
    }
    void member;
  }

  /** A member applied `entry`; `digest` is its state digest afterwards. */
  onApply(member: NodeId, entry: Entry, digest: number): void {
    const i = entry.index;
    const seen = this.#applied[i];
    if (seen === undefined) {
      this.#applied[i] = entry;
      this.#digestAt[i] = digest;
      return;
    }
    this.#check(seen.term === entry.term && sameBytes(seen.data, entry.data), 'state-machine-safety', () =>
      `member ${id(member)} applied entry ${i}/${entry.term}, another member applied ${i}/${seen.term}` +
      (seen.term === entry.term ? ' with different data' : ''));
    this.#check(this.#digestAt[i] === digest, 'state-machine-safety', () =>
      `member ${id(member)} has state digest ${digest.toString(16)} after applying index ${i}, ` +
      `another member had ${this.#digestAt[i]!.toString(16)}`);
  }

  /** A member installed a snapshot at `index`; its state digest must match the applied history. */
  onSnapshot(member: NodeId, index: number, digest: number): void {
    const seen = this.#digestAt[index];
    if (seen === undefined) {
      this.#digestAt[index] = digest;
      return;
    }
    this.#check(seen === digest, 'state-machine-safety', () =>
      `member ${id(member)} installed a snapshot at ${index} with digest ${digest.toString(16)}, ` +
      `members that applied ${index} had ${seen.toString(16)}`);
  }

  /** A client was told its write succeeded: entry `index` of `term`. */
  onAck(index: number, term: number, what: string): void {
    this.#acks.push({ index, term, what });
  }

  /** Acknowledged writes are still in the log of `leader` (when not compacted away). */
  checkAcksKept(leader: NodeId, storage: Storage): void {
    for (const ack of this.#acks) {
      if (ack.index < storage.firstIndex()) continue;
      const have = termAt(storage, ack.index);
      this.#check(have === ack.term, 'acknowledged-write-lost', () =>
        `the final leader ${id(leader)} has ${have === undefined ? 'no entry' : `term ${have}`} at index ` +
        `${ack.index}, where the acknowledged ${ack.what} was committed in term ${ack.term}`);
    }
  }

  /** How many writes were acknowledged. */
  get ackCount(): number {
    return this.#acks.length;
  }

  /** The highest index known committed. */
  get committedUpTo(): number {
    return this.#committedUpTo;
  }
}
