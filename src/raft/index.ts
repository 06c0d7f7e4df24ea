// The Raft core's public exports. Other rooms import only this file.
export * from './messages.ts';
export * from './config.ts';
export * from './ready.ts';
export { RawNode } from './raw-node.ts';
export { MemoryStorage, StorageError, StorageErrorCode, type Storage, type InitialState } from './storage.ts';
export { ConfChangeError } from './confchange/changer.ts';
export { encodeConfChange, decodeConfChange, describeConfChange } from './confchange/conf-change.ts';
export * from './describe.ts';
