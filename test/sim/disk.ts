// One member's durable state, modelled as a write-ahead log: records (entries, hard state,
// snapshots) are written in order and become durable at a sync. A crash keeps everything synced
// plus a random prefix of the unsynced records: a WAL replays records in order and stops at the
// first torn or missing one (CRC-checked), so what survives is always a prefix of what was
// written — never a later record without an earlier one. See `crash` for the argument.
import type { Entry, HardState, Snapshot } from '../../src/raft/messages.ts';
import { emptyHardState } from '../../src/raft/messages.ts';
import type { SeededRng } from '../../src/util/rng.ts';

/** One WAL record. `replace` snapshots come from the leader and replace the whole log. */
export type DiskRecord =
  | { kind: 'entries'; entries: readonly Entry[] }
  | { kind: 'hardState'; hardState: HardState }
  | { kind: 'snapshot'; snapshot: Snapshot; replace: boolean };

/** What a member finds on disk when it starts: a snapshot, the entries after it, a hard state. */
export interface DurableState {
  snapshot: Snapshot | undefined;
  /** Contiguous, starting right after the snapshot index (or at 1 without one). */
  entries: Entry[];
  hardState: HardState;
}

/** Errors in the disk model are bugs in the member loop or the core (a gap in the log). */
export class DiskError extends Error {
  override name = 'DiskError';
}

/** The durable state of one member, and the writes not yet synced. */
export class Disk {
  #durable: DurableState = { snapshot: undefined, entries: [], hardState: emptyHardState() };
  #pending: DiskRecord[] = [];
  /** Counters for the run summary. */
  syncs = 0;
  lostRecords = 0;

  /** Buffers a record (written to the page cache, not yet durable). */
  write(record: DiskRecord): void {
    this.#pending.push(record);
  }

  /** Makes every written record durable (fdatasync). */
  sync(): void {
    for (const r of this.#pending) applyRecord(this.#durable, r);
    this.#pending = [];
    this.syncs++;
  }

  /** Records written and not yet synced. */
  get unsynced(): number {
    return this.#pending.length;
  }

  /**
   * The process dies. With `keepUnsynced`, a random prefix of the unsynced records survives (the
   * kernel may have written some pages back; replay stops at the first incomplete record), else
   * only what was synced. Either way the member never answered anything that depended on an
   * unsynced record (acknowledgements wait for the sync), and a prefix keeps the log contiguous
   * and the hard state's commit within it (a Ready writes entries before its hard state).
   * Returns how many unsynced records were lost.
   */
  crash(rng: SeededRng, keepUnsynced: boolean): number {
    const keep = keepUnsynced ? rng.int(this.#pending.length + 1) : 0;
    for (let i = 0; i < keep; i++) applyRecord(this.#durable, this.#pending[i]!);
    // The first lost record may be a batch of entries torn part-way (one WAL record per entry).
    const torn = this.#pending[keep];
    if (keepUnsynced && torn?.kind === 'entries' && torn.entries.length > 1) {
      applyRecord(this.#durable, { kind: 'entries', entries: torn.entries.slice(0, rng.int(torn.entries.length)) });
    }
    const lost = this.#pending.length - keep;
    this.lostRecords += lost;
    this.#pending = [];
    return lost;
  }

  /** A copy of the durable state, for a restart. */
  load(): DurableState {
    const d = this.#durable;
    return { snapshot: d.snapshot, entries: [...d.entries], hardState: { ...d.hardState } };
  }

  /** The durable hard state (what a restart will begin from). */
  get durableHardState(): HardState {
    return this.#durable.hardState;
  }
}

function lastIndex(d: DurableState): number {
  const n = d.entries.length;
  if (n > 0) return d.entries[n - 1]!.index;
  return d.snapshot?.metadata.index ?? 0;
}

function applyRecord(d: DurableState, r: DiskRecord): void {
  switch (r.kind) {
    case 'hardState':
      d.hardState = { ...r.hardState };
      return;
    case 'snapshot': {
      const index = r.snapshot.metadata.index;
      d.snapshot = r.snapshot;
      // A leader's snapshot replaces the log; a local one only drops what it covers.
      d.entries = r.replace ? [] : d.entries.filter((e) => e.index > index);
      return;
    }
    case 'entries': {
      if (r.entries.length === 0) return;
      const snapIndex = d.snapshot?.metadata.index ?? 0;
      const fresh = r.entries.filter((e) => e.index > snapIndex);
      if (fresh.length === 0) return;
      const first = fresh[0]!.index;
      const last = lastIndex(d);
      if (first > last + 1) {
        throw new DiskError(`disk: gap in the log: append at ${first} after last index ${last}`);
      }
      // Overwrite from `first` on (a follower truncating a conflicting tail).
      const keep = d.entries.length === 0 ? 0 : first - d.entries[0]!.index;
      if (keep < d.entries.length) d.entries.length = Math.max(keep, 0);
      for (const e of fresh) d.entries.push(e);
      return;
    }
  }
}
