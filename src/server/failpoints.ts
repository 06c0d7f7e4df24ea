// Failpoints: named places in the member where a fault harness can crash the process, to test
// what a crash at exactly that moment leaves on disk. Armed only by the environment variable
// CONCORD_FAILPOINTS, read once when this module loads, e.g.
//   CONCORD_FAILPOINTS='raftAfterSave=crash@300,walAfterCut=crash'
// `crash` fires on the first hit, `crash@N` on the N-th. Unarmed, `failpoint()` is one check.
import { writeSync } from 'node:fs';

/** The places the member calls `failpoint` at, in the order one write meets them. */
export const FAILPOINT_NAMES = [
  /** Ready loop: before the WAL save of entries and hard state. */
  'raftBeforeSave',
  /** Ready loop: the WAL save and its fdatasync done, before Raft learns of it (advance). */
  'raftAfterSave',
  /** Apply: before the LMDB transaction of an apply batch begins. */
  'beforeApplyBatch',
  /** Apply: every write of the batch made, inside the LMDB transaction, before it commits. */
  'backendBeforeCommit',
  /** Apply: after the LMDB commit, before the waiting proposals are answered. */
  'afterApplyBatch',
  /** WAL: a segment is full, before it is sealed and the next one created. */
  'walBeforeCut',
  /** WAL: the next segment created, before the save that cut it returns. */
  'walAfterCut',
  /** Snapshot: due, before the backend sync and the snapshot file. */
  'beforeSnapshot',
  /** Snapshot: the file saved, before the WAL marks it. */
  'snapshotBeforeMark',
  /** Snapshot: file saved and marked in the WAL, before old segments are released and purged. */
  'afterSnapshotBeforeWalPurge',
  /** Snapshot from the leader: saved and marked, before its database replaces the key space. */
  'beforeSnapshotInstall',
] as const;
/** One of FAILPOINT_NAMES. */
export type FailpointName = (typeof FAILPOINT_NAMES)[number];

/** The environment variable that arms failpoints. */
export const FAILPOINTS_ENV = 'CONCORD_FAILPOINTS';

interface Armed {
  /** Fires on this hit (1 = the first). */
  atHit: number;
  hits: number;
}

/**
 * Parses a CONCORD_FAILPOINTS value. Throws on an unknown name or action: a misspelt failpoint
 * that silently never fires would make a crash test pass without crashing.
 */
export function parseFailpoints(spec: string): Map<FailpointName, Armed> {
  const armed = new Map<FailpointName, Armed>();
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const match = /^([A-Za-z]+)=crash(?:@([1-9][0-9]*))?$/.exec(part);
    const name = match?.[1];
    if (match === null || !FAILPOINT_NAMES.includes(name as FailpointName)) {
      throw new Error(
        `failpoints: cannot arm "${part}": expected <name>=crash or <name>=crash@<N>, ` +
          `name one of ${FAILPOINT_NAMES.join(', ')}`,
      );
    }
    armed.set(name as FailpointName, { atHit: Number(match[2] ?? '1'), hits: 0 });
  }
  return armed;
}

const spec = process.env[FAILPOINTS_ENV];
const armed = spec === undefined || spec === '' ? undefined : parseFailpoints(spec);

/** Marks the place `name`; a no-op unless CONCORD_FAILPOINTS armed it. */
export function failpoint(name: FailpointName): void {
  if (armed === undefined) return;
  const point = armed.get(name);
  if (point === undefined || ++point.hits !== point.atHit) return;
  // Synchronous: the line must reach stderr before the process dies.
  writeSync(2, `failpoint ${name}: crash (hit ${point.hits})\n`);
  process.kill(process.pid, 'SIGKILL');
}
