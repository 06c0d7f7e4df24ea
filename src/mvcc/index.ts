// The public face of the key space (src/mvcc): other rooms import only this file.
// The store keeps history on disk in LMDB; see store.ts for the layout and invariants.
export { Store } from './store.ts';
export type { SnapshotInfo, StoreOptions, StoreStatus } from './store.ts';
export { SyncMode } from './backend.ts';
export { WriteTxn } from './write-txn.ts';
export { MvccError, MvccErrorCode, isMvccError } from './errors.ts';
export type { MvccErrorFields } from './errors.ts';
export { EventType } from './types.ts';
export type {
  DeleteOptions,
  DeleteResult,
  Event,
  KeyValue,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  Revision,
  WriteResult,
} from './types.ts';
export type { KeyValueHash } from './hash.ts';
export type { HistoryBatch, HistoryOptions } from './history.ts';
export { executeRange, SortOrder, SortTarget } from './range-request.ts';
export type { RangeReader, RangeRequest, RangeResponse } from './range-request.ts';
export { toKeyRange } from './read.ts';
export type { KeyRange } from './read.ts';
export {
  maxWatchersPerSyncDefault,
  progressIntervalMsDefault,
  syncChunkEventsDefault,
  victimRetryMsDefault,
  WatchHub,
} from './watchable.ts';
export type {
  WatchBatch,
  Watcher,
  WatcherState,
  WatchHubOptions,
  WatchRequest,
  WatchSink,
} from './watchable.ts';
export { WatchStreamBuffer, watchStreamCapacityDefault } from './watch-stream.ts';
export type { StreamBatch, WatchStreamBufferOptions } from './watch-stream.ts';
