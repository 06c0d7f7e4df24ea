// The transport room's public API: peer connections between the members of a cluster (streams
// of Raft messages, snapshot streaming, peer requests, TLS, reconnect), the message codec, and the
// limits.
// Other rooms import only this file.
export { PeerTransport } from './transport.ts';
export type { PeerTlsOptions, PeerTransportOptions, SnapshotBody } from './transport.ts';
export type { PeerMember, PeerVersion } from './endpoints.ts';
export { membersJson } from './endpoints.ts';
export {
  FRAME_PREFIX_BYTES,
  FrameDecoder,
  decodeMessage,
  encodeFrames,
  encodeMessage,
  messageBytes,
} from './codec.ts';
export { TransportError, TransportErrorCode, isTransportError } from './errors.ts';
export type { RemoteFailure } from './errors.ts';
export { PeerProtocol, defaultPeerVersion, defaultTransportLimits, resolveLimits } from './limits.ts';
export type { TransportLimits } from './limits.ts';
export type { TransportLog } from './log.ts';
export type { ChunkTamper } from './snapshot-body.ts';
export type { PeerRequestContext } from './request-receiver.ts';
export type { PeerRequestOptions } from './request-sender.ts';
export { RequestRefusal, UNKNOWN_REMOTE_CODE } from './request-wire.ts';
