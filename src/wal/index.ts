// The wal room's public API: the segmented write-ahead log of Raft entries and hard state, and the
// snapshot files beside it. Other rooms import only this file.
export { WalError, WalErrorCode, isWalError } from './errors.ts';
export type { WalErrorDetail } from './errors.ts';
export { RECORD_BYTES_MAX_DEFAULT } from './record.ts';
export type { SnapshotMark } from './record.ts';
export type { Replay, SnapshotPosition } from './replay.ts';
export { parseSegmentName, segmentName } from './segment.ts';
export type { SegmentName } from './segment.ts';
export {
  MAX_SNAPSHOTS_DEFAULT,
  Snapshotter,
  decodeSnapshotFile,
  encodeSnapshotFile,
  snapshotFileName,
} from './snapshotter.ts';
export type { SnapshotterOptions } from './snapshotter.ts';
export { SEGMENT_BYTES_DEFAULT, Wal } from './wal.ts';
export type { SaveOptions, WalHooks, WalOpenOptions, WalOpened, WalOptions } from './wal.ts';

/** The default number of WAL segments purge keeps (etcd's --max-wals). */
export const MAX_SEGMENTS_DEFAULT = 5;
