// ReadIndex bookkeeping on the leader (Raft thesis §6.4): each request records the commit index at
// arrival and is released once a quorum has acknowledged a heartbeat carrying its context.
// Requests are released in arrival order; acknowledging one acknowledges every earlier one.
import type { Message, NodeId } from './messages.ts';
import type { ReadOnlyOption } from './config.ts';

/** A ReadIndex request waiting for a quorum's acknowledgement. */
export interface ReadIndexStatus {
  request: Message;
  index: number;
  acks: Map<NodeId, boolean>;
}

/** The key under which a request context is tracked. */
export function contextKey(context: Uint8Array | undefined): string {
  if (context === undefined || context.length === 0) return '';
  return latin1(context);
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** The leader's pending ReadIndex requests. */
export class ReadOnly {
  readonly option: ReadOnlyOption;
  readonly #pending = new Map<string, ReadIndexStatus>();
  #queue: string[] = [];

  constructor(option: ReadOnlyOption) {
    this.option = option;
  }

  /** Records a request that arrived when the commit index was `index`. Duplicate contexts are ignored. */
  addRequest(index: number, request: Message): void {
    const key = contextKey(request.entries?.[0]?.data);
    if (this.#pending.has(key)) return;
    this.#pending.set(key, { request, index, acks: new Map() });
    this.#queue.push(key);
  }

  /** Records `id`'s acknowledgement of the heartbeat carrying `context`; returns the acks so far. */
  recvAck(id: NodeId, context: Uint8Array | undefined): Map<NodeId, boolean> | undefined {
    const status = this.#pending.get(contextKey(context));
    if (status === undefined) return undefined;
    status.acks.set(id, true);
    return status.acks;
  }

  /** Releases the request with this context and every one queued before it. */
  advance(context: Uint8Array | undefined): ReadIndexStatus[] {
    const key = contextKey(context);
    const at = this.#queue.indexOf(key);
    if (at < 0) return [];
    const released: ReadIndexStatus[] = [];
    for (const k of this.#queue.slice(0, at + 1)) {
      const status = this.#pending.get(k);
      if (status === undefined) continue;
      released.push(status);
      this.#pending.delete(k);
    }
    this.#queue = this.#queue.slice(at + 1);
    return released;
  }

  /** The context of the newest pending request (heartbeats carry it), if any. */
  lastPendingRequestContext(): Uint8Array | undefined {
    const key = this.#queue[this.#queue.length - 1];
    if (key === undefined) return undefined;
    return this.#pending.get(key)?.request.entries?.[0]?.data;
  }

  pendingCount(): number {
    return this.#queue.length;
  }
}
