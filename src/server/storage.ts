// A member's durable state on disk, laid out as etcd lays it out:
//   <data-dir>/member/wal/   WAL segments          (or --wal-dir)
//   <data-dir>/member/snap/  Raft snapshot files
//   <data-dir>/member/db/    the key space (LMDB)
// First start bootstraps a new cluster: a snapshot at index 1, term 1 listing the initial voters
// (every initial member writes the same one). A restart loads the newest snapshot the WAL marked
// and replays the WAL after it; the --initial-* flags are then ignored, as etcd ignores them.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ConfState, type HardState, MemoryStorage, type Snapshot, emptyConfState } from '../raft/index.ts';
import { Snapshotter, Wal, type WalOptions } from '../wal/index.ts';
import { failpoint } from './failpoints.ts';

/** What is known of one member of the cluster. */
export interface MemberInfo {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** The WAL metadata: which member and cluster this WAL belongs to. */
export interface WalIdentity {
  memberId: bigint;
  clusterId: bigint;
}

/** The Raft snapshot's data: the membership (the key space travels separately). */
export interface SnapshotData {
  members: MemberInfo[];
}

/** Where a member's files are. */
export interface DataDirLayout {
  dataDir: string;
  walDir: string;
  snapDir: string;
  dbDir: string;
}

/** The layout for a data dir (and an optional dedicated WAL dir). */
export function dataDirLayout(dataDir: string, walDir: string): DataDirLayout {
  const member = join(dataDir, 'member');
  return {
    dataDir,
    walDir: walDir === '' ? join(member, 'wal') : walDir,
    snapDir: join(member, 'snap'),
    dbDir: join(member, 'db'),
  };
}

/** True when the data dir already holds a member's WAL. */
export function hasWal(layout: DataDirLayout): boolean {
  return existsSync(layout.walDir) && readdirSync(layout.walDir).some((name) => name.endsWith('.wal'));
}

export function encodeIdentity(id: WalIdentity): Uint8Array {
  const buf = Buffer.alloc(16);
  buf.writeBigUInt64BE(id.memberId, 0);
  buf.writeBigUInt64BE(id.clusterId, 8);
  return buf;
}

export function decodeIdentity(bytes: Uint8Array): WalIdentity {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length !== 16) throw new Error(`server: WAL metadata of ${buf.length} bytes is not a member identity`);
  return { memberId: buf.readBigUInt64BE(0), clusterId: buf.readBigUInt64BE(8) };
}

export function encodeSnapshotData(data: SnapshotData): Uint8Array {
  return Buffer.from(JSON.stringify({ members: data.members.map((m) => ({ ...m, id: m.id.toString() })) }));
}

export function decodeSnapshotData(bytes: Uint8Array): SnapshotData {
  if (bytes.length === 0) return { members: [] };
  const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as { members: Array<Omit<MemberInfo, 'id'> & { id: string }> };
  return { members: parsed.members.map((m) => ({ ...m, id: BigInt(m.id) })) };
}

/**
 * NB: test-only, undocumented: CONCORD_WAL_SEGMENT_BYTES makes segments small so that crash
 * tests meet segment cuts and purges after a few hundred writes (etcd's 64 MiB otherwise).
 */
const walSegmentBytes = parseSegmentBytes(process.env['CONCORD_WAL_SEGMENT_BYTES']);

function parseSegmentBytes(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 4096) {
    throw new Error(`server: CONCORD_WAL_SEGMENT_BYTES must be an integer ≥ 4096, not "${value}"`);
  }
  return n;
}

/** The WAL's options: its log, the failpoints at segment cuts, the test-only segment size. */
function walOptions(log: (msg: string) => void): WalOptions {
  const hooks = { beforeCut: () => failpoint('walBeforeCut'), afterCut: () => failpoint('walAfterCut') };
  return walSegmentBytes === undefined ? { log, hooks } : { log, hooks, segmentBytes: walSegmentBytes };
}

/** What the member starts from. */
export interface OpenedStorage {
  wal: Wal;
  snapshotter: Snapshotter;
  memory: MemoryStorage;
  identity: WalIdentity;
  /** The snapshot loaded (or bootstrapped), if any. */
  snapshot: Snapshot | undefined;
  hardState: HardState;
  /** True when this start created the data dir. */
  fresh: boolean;
}

/** Creates the files of a new member of a new cluster. */
export async function bootstrapStorage(
  layout: DataDirLayout,
  identity: WalIdentity,
  initialMembers: MemberInfo[],
  log: (msg: string) => void,
): Promise<OpenedStorage> {
  for (const dir of [layout.walDir, layout.snapDir, layout.dbDir]) mkdirSync(dir, { recursive: true });
  const confState: ConfState = { ...emptyConfState(), voters: initialMembers.filter((m) => !m.isLearner).map((m) => m.id) };
  const snapshot: Snapshot = {
    data: encodeSnapshotData({ members: initialMembers }),
    metadata: { index: 1, term: 1, confState },
  };
  const snapshotter = new Snapshotter(layout.snapDir, { log });
  await snapshotter.save(snapshot);
  const wal = await Wal.create(layout.walDir, encodeIdentity(identity), walOptions(log));
  await wal.saveSnapshotMark({ index: 1, term: 1, confState });
  const hardState: HardState = { term: 1, vote: 0n, commit: 1 };
  await wal.save(hardState, [], { sync: true });
  const memory = new MemoryStorage();
  memory.applySnapshot(snapshot);
  memory.setHardState(hardState);
  return { wal, snapshotter, memory, identity, snapshot, hardState, fresh: true };
}

/** Creates the files of a member joining an existing cluster: it starts empty and catches up. */
export async function joinStorage(layout: DataDirLayout, identity: WalIdentity, log: (msg: string) => void): Promise<OpenedStorage> {
  for (const dir of [layout.walDir, layout.snapDir, layout.dbDir]) mkdirSync(dir, { recursive: true });
  const snapshotter = new Snapshotter(layout.snapDir, { log });
  const wal = await Wal.create(layout.walDir, encodeIdentity(identity), walOptions(log));
  const memory = new MemoryStorage();
  return { wal, snapshotter, memory, identity, snapshot: undefined, hardState: memory.hardState(), fresh: true };
}

/** Opens an existing member: newest marked snapshot, then the WAL after it. */
export async function openStorage(layout: DataDirLayout, log: (msg: string) => void): Promise<OpenedStorage> {
  const snapshotter = new Snapshotter(layout.snapDir, { log });
  const marks = await Wal.readSnapshotMarks(layout.walDir, { log });
  const snapshot = await snapshotter.loadNewestAvailable(marks);
  const from = snapshot === undefined ? undefined : { index: snapshot.metadata.index, term: snapshot.metadata.term };
  const options = walOptions(log);
  const { wal, replay } = await Wal.open(layout.walDir, from === undefined ? options : { ...options, fromSnapshot: from });
  const memory = new MemoryStorage();
  if (snapshot !== undefined) memory.applySnapshot(snapshot);
  memory.setHardState(replay.hardState);
  memory.append(replay.entries);
  return {
    wal,
    snapshotter,
    memory,
    identity: decodeIdentity(replay.metadata),
    snapshot,
    hardState: replay.hardState,
    fresh: false,
  };
}
