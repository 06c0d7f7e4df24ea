// etcd's Watch service: one bidirectional stream carries many watchers. Requests create, cancel
// and ask for progress; a send loop drains the stream's bounded buffer of watch batches.
import type { Member } from '../../server/member.ts';
import { type Event, WatchStreamBuffer, type Watcher, type StreamBatch } from '../../mvcc/index.ts';
import { services } from '../../proto/index.ts';
import type { WatchCreateRequest, WatchResponse, Event as ProtoEvent } from '../../proto/index.ts';
import type { GrpcServer, ServerWritableCall } from './server/index.ts';

const FILTER_NOPUT = 0;
const FILTER_NODELETE = 1;

/** Registers Watch on `server`, served by `member`. */
export function addWatchService(server: GrpcServer, member: Member, limits: { requestBytesMax: number }): void {
  server.addService(services['etcdserverpb.Watch'], {
    Watch: async (requests, call) => {
      const stream = new WatchStream(member, call, limits.requestBytesMax);
      try {
        const sending = stream.sendLoop();
        for await (const req of requests) {
          if (req.createRequest !== undefined) stream.create(req.createRequest);
          else if (req.cancelRequest !== undefined) stream.cancel(req.cancelRequest.watchId);
          else if (req.progressRequest !== undefined) stream.progress();
        }
        stream.close();
        await sending;
      } finally {
        stream.close();
      }
    },
  });
}

type Reply = Partial<WatchResponse> & { watchId: number };

/** The watchers of one gRPC stream. */
class WatchStream {
  readonly #member: Member;
  readonly #call: ServerWritableCall<WatchResponse>;
  readonly #buffer: WatchStreamBuffer;
  readonly #watchers = new Map<number, Watcher>();
  readonly #ids = new Map<Watcher, number>();
  /** Control responses (created, canceled, progress) go out in order with the event batches. */
  #control: Reply[] = [];
  #nextId = 0;
  #closed = false;
  #wake: (() => void) | undefined;
  readonly #fragmentBytes: number;

  constructor(member: Member, call: ServerWritableCall<WatchResponse>, fragmentBytes: number) {
    this.#member = member;
    this.#call = call;
    this.#fragmentBytes = fragmentBytes;
    this.#buffer = new WatchStreamBuffer({ onDrain: () => member.hub.retryVictims() });
  }

  create(req: WatchCreateRequest): void {
    let id = req.watchId;
    // etcd (mvcc watchStream.Watch) refuses key >= range_end before it looks at the id; a
    // range_end of "\0" (from key on) is exempt.
    const fromKey = req.rangeEnd.length === 1 && req.rangeEnd[0] === 0;
    if (req.rangeEnd.length > 0 && !fromKey && Buffer.compare(req.key, req.rangeEnd) >= 0) {
      this.#reply({ watchId: -1, created: true, canceled: true, cancelReason: 'mvcc: watcher range is empty' });
      return;
    }
    if (id !== 0 && this.#watchers.has(id)) {
      this.#reply({ watchId: -1, created: true, canceled: true, cancelReason: 'mvcc: duplicate watch ID provided on the WatchStream' });
      return;
    }
    if (id === 0) {
      while (this.#watchers.has(this.#nextId)) this.#nextId++;
      id = this.#nextId++;
    }
    // etcd: an empty key watches from "\0"; range_end "\0" means every key from key on.
    const key = req.key.length === 0 ? new Uint8Array([0]) : req.key;
    const rangeEnd = req.rangeEnd.length === 0 ? undefined : req.rangeEnd;
    // The created reply goes first; events can only follow it.
    this.#reply({ watchId: id, created: true });
    const watcher = this.#member.hub.watch(
      {
        key,
        ...(rangeEnd === undefined ? {} : { rangeEnd }),
        startRevision: req.startRevision,
        prevKv: req.prevKv,
        filters: { noPut: req.filters.includes(FILTER_NOPUT), noDelete: req.filters.includes(FILTER_NODELETE) },
        fragment: req.fragment,
        progressNotify: req.progressNotify,
      },
      (batch, w) => {
        const ok = this.#buffer.sink(batch, w);
        this.#wake?.();
        return ok;
      },
    );
    this.#watchers.set(id, watcher);
    this.#ids.set(watcher, id);
  }

  cancel(id: number): void {
    const watcher = this.#watchers.get(id);
    if (watcher === undefined) return;
    this.#member.hub.cancel(watcher);
    this.#watchers.delete(id);
    this.#ids.delete(watcher);
    this.#reply({ watchId: id, canceled: true });
  }

  progress(): void {
    const revision = this.#member.hub.progressIfSynced(this.#ids.keys());
    if (revision !== undefined) this.#reply({ watchId: -1, header: this.#member.header(revision) });
  }

  #reply(r: Reply): void {
    this.#control.push(r);
    this.#wake?.();
  }

  /** Sends control replies and event batches until the stream closes. */
  async sendLoop(): Promise<void> {
    while (!this.#closed && !this.#call.signal.aborted) {
      const control = this.#control.shift();
      if (control !== undefined) {
        await this.#call.send({ header: this.#member.header(), ...control } as WatchResponse);
        continue;
      }
      const batch = this.#buffer.length > 0 ? await this.#buffer.take() : undefined;
      if (batch !== undefined) {
        await this.#sendBatch(batch);
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }

  async #sendBatch(batch: StreamBatch): Promise<void> {
    const id = this.#ids.get(batch.watcher);
    if (id === undefined) return; // cancelled meanwhile
    const header = this.#member.header(batch.revision);
    if (batch.compactRevision !== undefined) {
      // NB: as etcd 3.4, the id stays taken (a create with it is a duplicate) until the client
      // cancels it; the hub has already dropped the watcher.
      this.#ids.delete(batch.watcher);
      // NB: etcd's compaction response carries no revision (its WatchResponse.Revision is 0).
      await this.#call.send({ header: this.#member.header(0), watchId: id, created: false, canceled: true, compactRevision: batch.compactRevision, cancelReason: '', fragment: false, events: [] });
      return;
    }
    const events = batch.events.map(toProtoEvent);
    if (!batch.watcher.fragment) {
      await this.#call.send({ header, watchId: id, created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment: false, events });
      return;
    }
    // Fragments of at most requestBytesMax each; all but the last are marked.
    let start = 0;
    while (start < events.length || start === 0) {
      let size = 0;
      let end = start;
      while (end < events.length && (end === start || size + eventBytes(events[end]!) <= this.#fragmentBytes)) {
        size += eventBytes(events[end]!);
        end++;
      }
      const last = end >= events.length;
      await this.#call.send({ header, watchId: id, created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment: !last, events: events.slice(start, end) });
      if (last) break;
      start = end;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#watchers.values()) this.#member.hub.cancel(w);
    this.#watchers.clear();
    this.#buffer.close();
    this.#wake?.();
  }
}

function toProtoEvent(e: Event): ProtoEvent {
  const out: ProtoEvent = { type: e.type === 'PUT' ? 0 : 1, kv: e.kv };
  if (e.prevKv !== undefined) out.prevKv = e.prevKv;
  return out;
}

function eventBytes(e: ProtoEvent): number {
  return (e.kv?.key.length ?? 0) + (e.kv?.value.length ?? 0) + (e.prevKv?.value.length ?? 0) + 64;
}
