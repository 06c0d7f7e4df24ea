// A node's MemoryStorage plus the application state the scenario keeps beside it: the applied
// index and the configuration at each applied index. A leader that must send a snapshot sends
// one of its applied state at that moment, as a member builds it on demand (etcd's interaction
// tests do the same), so a joining node gets a snapshot whose configuration lists it.
import {
  type ConfState,
  type Snapshot,
} from '../../../src/raft/messages.ts';
import { MemoryStorage } from '../../../src/raft/storage.ts';

/** MemoryStorage whose `snapshot()` describes the applied state. */
export class ScenarioStorage extends MemoryStorage {
  #appliedIndex = 0;
  /** Configurations by the index they took effect at, ascending; the first is the snapshot's. */
  #confs: { index: number; confState: ConfState }[] = [];

  /** Forgets the application state (a restart): it restarts from the stored snapshot. */
  resetApplied(): void {
    const meta = super.snapshot().metadata;
    this.#appliedIndex = meta.index;
    this.#confs = [{ index: meta.index, confState: meta.confState }];
  }

  /** The entry at `index` was applied; `confState` is the configuration after it, if it changed. */
  recordApplied(index: number, confState?: ConfState): void {
    this.#appliedIndex = index;
    if (confState !== undefined) this.#confs.push({ index, confState });
  }

  /** A snapshot from the leader replaced the application state. */
  recordSnapshot(snapshot: Snapshot): void {
    this.#appliedIndex = snapshot.metadata.index;
    this.#confs = [{ index: snapshot.metadata.index, confState: snapshot.metadata.confState }];
  }

  /** The configuration in effect at `index` (which must be applied). */
  confStateAt(index: number): ConfState {
    let cs = this.#confs[0]!.confState;
    for (const c of this.#confs) if (c.index <= index) cs = c.confState;
    return cs;
  }

  appliedIndex(): number {
    return this.#appliedIndex;
  }

  /** The snapshot this storage holds (what the log was compacted to). */
  storedSnapshot(): Snapshot {
    return super.snapshot();
  }

  /** A snapshot of the applied state, when it is newer than the stored one. */
  override snapshot(): Snapshot {
    const stored = super.snapshot();
    const index = this.#appliedIndex;
    if (index <= stored.metadata.index) return stored;
    return {
      data: new TextEncoder().encode(`snapshot@${index}`),
      metadata: { index, term: this.term(index), confState: this.confStateAt(index) },
    };
  }
}
