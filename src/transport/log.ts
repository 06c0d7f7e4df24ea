// How the transport logs: the member's log function (level, message), and ids written the way
// etcd writes them (hex), so log lines match what operators grep for.

/** A log sink, the same shape as the member's. */
export type TransportLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;

/** A member or cluster id as etcd prints it: lower-case hex without leading zeros. */
export function hexId(id: bigint): string {
  return id.toString(16);
}
