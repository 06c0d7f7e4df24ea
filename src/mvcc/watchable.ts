// The watchable store (etcd's mvcc watchableStore): watchers over the key space, fed live by the
// member's notify() after each apply batch commits, or caught up from history in the background.
//
//   watch(start 0 or > revision) ──▶ synced ──notify: sink refuses──▶ victims
//   watch(start ≤ revision) ──▶ unsynced ◀──retryVictims()──────────────┘
//   unsynced ──syncUnsynced(): history chunks up to `revision`──▶ synced (once caught up)
//   unsynced, next revision < compact revision ──▶ one batch with compactRevision, removed
//
// Invariants: a watcher is in exactly one of synced / unsynced / victims; `nextRevision` is the
// first main revision it has not been given; every batch it takes starts at its nextRevision's
// events, so it sees each event of its range exactly once, in revision order, with no gap.
// History is read only up to the revision last notified, never beyond: events of a committed
// batch that is not yet notified reach watchers through notify(), once.
import { assert } from '../util/assert.ts';
import { isMvccError, MvccError, MvccErrorCode } from './errors.ts';
import type { Store } from './store.ts';
import { EventType } from './types.ts';
import type { Event } from './types.ts';
import { keyString, watchedRange, WatcherGroup } from './watcher-group.ts';
import type { WatchedRange } from './watcher-group.ts';

/** What a watch asks for (etcd's WatchCreateRequest, as the store sees it). */
export interface WatchRequest {
  key: Uint8Array;
  /** etcd's range_end: absent/empty → the key alone; "\0" → every key ≥ key; else [key, end). */
  rangeEnd?: Uint8Array;
  /** The first revision to deliver; 0 or absent: from the next revision on. */
  startRevision?: number;
  /** Attach each event's previous key-value. */
  prevKv?: boolean;
  filters?: { noPut?: boolean; noDelete?: boolean };
  /** Kept for the gRPC layer, which splits large batches; the hub never fragments. */
  fragment?: boolean;
  /** Send an empty batch every progress interval in which this watcher got no events. */
  progressNotify?: boolean;
}

/**
 * What a watcher is given: events in revision order, at header `revision`. An empty batch is a
 * progress notification. With `compactRevision` set, the watcher's start was compacted and the
 * watcher is already removed (the gRPC layer answers canceled, as etcd does).
 * NB: event objects are shared between watchers: never mutate them.
 */
export interface WatchBatch {
  events: Event[];
  revision: number;
  compactRevision?: number;
}

/**
 * The consumer of one watcher. Returns false to refuse a batch (its buffer is full); the batch is
 * not taken, the watcher becomes a victim and gets the same events later, from history.
 */
export type WatchSink = (batch: WatchBatch, watcher: Watcher) => boolean;

/** Where a watcher stands. */
export type WatcherState = 'synced' | 'unsynced' | 'victim' | 'cancelled';

/** A watcher, as its owner sees it. */
export interface Watcher {
  /** The hub's id (unique per hub; the gRPC layer keeps its own per-stream watch ids). */
  readonly id: number;
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array | undefined;
  readonly prevKv: boolean;
  readonly fragment: boolean;
  readonly progressNotify: boolean;
  readonly state: WatcherState;
}

/** Limits and timing of a hub. */
export interface WatchHubOptions {
  /** Unsynced watchers caught up per step (etcd's maxWatchersPerSync, 512). */
  maxWatchersPerSync?: number;
  /** History events read per catch-up step (about; a revision is never split). Default 2,000. */
  syncChunkEvents?: number;
  /** Delay before victims are retried from history, in ms (etcd retries every 10 ms). */
  victimRetryMs?: number;
  /** Progress notifications for progressNotify watchers, in ms (etcd: 10 min); 0 disables. */
  progressIntervalMs?: number;
  /** No timers or setImmediate: the caller drives syncUnsynced, retryVictims and progressTick. */
  manual?: boolean;
}

/** etcd's maxWatchersPerSync. */
export const maxWatchersPerSyncDefault = 512;
/**
 * History events per catch-up step: bounds the time one step holds the event loop (measured here:
 * 2,000 events dispatched to 500 watchers ≈ 15–30 ms; 10,000 ≈ 130 ms), at the cost of more steps.
 */
export const syncChunkEventsDefault = 2_000;
/** etcd's syncVictimsLoop period. */
export const victimRetryMsDefault = 10;
/** etcd's default ProgressReportInterval. */
export const progressIntervalMsDefault = 10 * 60 * 1000;

class HubWatcher implements Watcher {
  readonly id: number;
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array | undefined;
  readonly prevKv: boolean;
  readonly fragment: boolean;
  readonly progressNotify: boolean;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly range: WatchedRange;
  readonly sink: WatchSink;
  state: WatcherState;
  /** The first revision not given yet; for a synced watcher a lower bound (notify sets it). */
  nextRevision: number;
  /** Whether a batch with events was taken since the last progress tick. */
  gotEvents = false;

  constructor(id: number, request: WatchRequest, sink: WatchSink, init: { next: number }) {
    this.id = id;
    this.key = Uint8Array.from(request.key);
    this.rangeEnd = request.rangeEnd === undefined ? undefined : Uint8Array.from(request.rangeEnd);
    this.prevKv = request.prevKv === true;
    this.fragment = request.fragment === true;
    this.progressNotify = request.progressNotify === true;
    this.noPut = request.filters?.noPut === true;
    this.noDelete = request.filters?.noDelete === true;
    this.range = watchedRange(this.key, this.rangeEnd);
    this.sink = sink;
    this.state = 'unsynced';
    this.nextRevision = init.next;
  }

  wants(event: Event): boolean {
    return event.type === EventType.put ? !this.noPut : !this.noDelete;
  }
}

/** Events of one watcher, collected while matching a run of events. */
type Collected = Map<HubWatcher, Event[]>;

function collect(into: Collected, watcher: HubWatcher, event: Event): void {
  const list = into.get(watcher);
  if (list === undefined) into.set(watcher, [event]);
  else list.push(event);
}

function withoutPrevKv(event: Event): Event {
  if (event.prevKv === undefined) return event;
  return { type: event.type, kv: event.kv, sub: event.sub };
}

/** How long the catch-up waits while the store is offline (defragmentation, snapshot install). */
const OFFLINE_RETRY_MS = 10;

/** Watchers over a store. One per member; the member calls notify() after each apply batch. */
export class WatchHub {
  readonly #store: Store;
  readonly #options: Required<WatchHubOptions>;
  /** The revision last notified: history is read up to here, notify() delivers what follows. */
  #revision: number;
  readonly #synced = new WatcherGroup<HubWatcher>();
  /** Set order is the catch-up order: a watcher not finished in a step goes to the back. */
  readonly #unsynced = new Set<HubWatcher>();
  readonly #victims = new Set<HubWatcher>();
  readonly #progressWatchers = new Set<HubWatcher>();
  readonly #watchers = new Map<number, HubWatcher>();
  #nextId = 1;
  #closed = false;
  #syncScheduled = false;
  #victimTimer: NodeJS.Timeout | undefined;
  #progressTimer: NodeJS.Timeout | undefined;

  constructor(store: Store, options: WatchHubOptions = {}) {
    this.#store = store;
    this.#options = {
      maxWatchersPerSync: options.maxWatchersPerSync ?? maxWatchersPerSyncDefault,
      syncChunkEvents: options.syncChunkEvents ?? syncChunkEventsDefault,
      victimRetryMs: options.victimRetryMs ?? victimRetryMsDefault,
      progressIntervalMs: options.progressIntervalMs ?? progressIntervalMsDefault,
      manual: options.manual ?? false,
    };
    assert(this.#options.maxWatchersPerSync > 0, 'mvcc: maxWatchersPerSync must be positive');
    assert(this.#options.syncChunkEvents > 0, 'mvcc: syncChunkEvents must be positive');
    this.#revision = store.currentRevision;
    if (!this.#options.manual && this.#options.progressIntervalMs > 0) {
      const every = this.#options.progressIntervalMs;
      this.#progressTimer = setInterval(() => this.progressTick(), every);
      this.#progressTimer.unref();
    }
  }

  /** The revision last notified (the header revision of live batches). */
  get revision(): number {
    return this.#revision;
  }

  /** How many watchers are active (etcd's watcher gauge). */
  get size(): number {
    return this.#watchers.size;
  }

  /** Watchers per group, for metrics (etcd's slow watcher gauge is `victims + unsynced`). */
  counts(): { synced: number; unsynced: number; victims: number } {
    const synced = this.#synced.size;
    return { synced, unsynced: this.#unsynced.size, victims: this.#victims.size };
  }

  /**
   * Starts a watcher. With startRevision 0 or above the last notified revision it is synced at
   * once; otherwise it is caught up from history in the background (a compacted start is
   * answered there, never synchronously, so the caller can first confirm the creation).
   */
  watch(request: WatchRequest, sink: WatchSink): Watcher {
    if (this.#closed) throw new MvccError(MvccErrorCode.closed, { detail: 'watch hub closed' });
    const start = request.startRevision ?? 0;
    assert(Number.isSafeInteger(start) && start >= 0, () => `mvcc: bad startRevision ${start}`);
    const synced = start === 0 || start > this.#revision;
    const next = start === 0 ? this.#revision + 1 : start;
    const w = new HubWatcher(this.#nextId++, request, sink, { next });
    this.#watchers.set(w.id, w);
    if (w.progressNotify) this.#progressWatchers.add(w);
    if (synced) this.#toSynced(w);
    else this.#toUnsynced(w);
    return w;
  }

  /** Stops a watcher: nothing more reaches its sink. False if it was not active. Idempotent. */
  cancel(watcher: Watcher): boolean {
    const w = this.#watchers.get(watcher.id);
    if (w === undefined || w !== watcher) return false;
    this.#remove(w);
    return true;
  }

  /**
   * The store jumped ahead (a snapshot from the leader replaced it): every synced watcher catches
   * up from the new store's history (or hears it was compacted), and live batches go on from its
   * current revision.
   */
  rebase(): void {
    if (this.#closed) return;
    const revision = this.#store.currentRevision;
    assert(revision >= this.#revision, () => `mvcc: rebase went back: ${this.#revision} → ${revision}`);
    this.#revision = revision;
    for (const w of [...this.#watchers.values()]) if (w.state === 'synced') this.#toUnsynced(w);
  }

  /**
   * Delivers the events of one committed apply batch (all revisions after the last notified up
   * to `revision`, in order) to the synced watchers: one batch per watcher. A watcher whose sink
   * refuses becomes a victim and gets these events later from history.
   */
  notify(events: readonly Event[], revision: number): void {
    if (this.#closed) return;
    const from = this.#revision;
    assert(revision >= from, () => `mvcc: notify went back: ${from} → ${revision}`);
    assert(revision <= this.#store.currentRevision, 'mvcc: notify of an uncommitted revision');
    const collected: Collected = new Map();
    let last = from;
    for (const event of events) {
      const rev = event.kv.modRevision;
      assert(rev > from && rev <= revision && rev >= last, () => `mvcc: notify of revision ${rev}`);
      last = rev;
      this.#synced.forEachMatch(keyString(event.kv.key), (w) => {
        if (rev >= w.nextRevision && w.wants(event)) collect(collected, w, event);
      });
    }
    this.#revision = revision;
    const prevKvs = new Map<Event, Event>();
    for (const [w, list] of collected) {
      if (w.state !== 'synced') continue; // cancelled by a sink call during this notify
      const batch = w.prevKv
        ? list.map((e) => this.#withPrevKv(e, prevKvs))
        : list.map(withoutPrevKv);
      if (this.#offer(w, { events: batch, revision })) {
        w.nextRevision = revision + 1;
      } else {
        w.nextRevision = list[0]!.kv.modRevision;
        this.#toVictim(w);
      }
    }
  }

  /**
   * One catch-up step (etcd's syncWatchers): up to maxWatchersPerSync unsynced watchers share one
   * history read of up to syncChunkEvents events, up to the last notified revision. Those caught
   * up become synced. Returns whether unsynced watchers remain. Never blocks a write for longer
   * than one bounded read.
   */
  syncUnsynced(): boolean {
    if (this.#closed || this.#unsynced.size === 0) return false;
    const chosen = this.#chooseUnsynced();
    if (chosen.length === 0) return this.#unsynced.size > 0;
    let minRev = Infinity;
    let wantPrevKv = false;
    for (const w of chosen) {
      minRev = Math.min(minRev, w.nextRevision);
      wantPrevKv ||= w.prevKv;
    }
    let history;
    try {
      history = this.#store.eventsSince(minRev, {
        limit: this.#options.syncChunkEvents,
        endRevision: this.#revision,
        prevKv: wantPrevKv,
      });
    } catch (error) {
      // Defragmentation makes the store refuse reads for a while: retry later.
      if (!isMvccError(error, MvccErrorCode.closed)) throw error;
      this.#scheduleVictimRetry();
      for (const w of chosen) this.#toVictim(w);
      return this.#unsynced.size > 0;
    }
    const group = new WatcherGroup<HubWatcher>();
    for (const w of chosen) group.add(w);
    const collected: Collected = new Map();
    for (const event of history.events) {
      const rev = event.kv.modRevision;
      group.forEachMatch(keyString(event.kv.key), (w) => {
        if (rev >= w.nextRevision && w.wants(event)) collect(collected, w, event);
      });
    }
    for (const w of chosen) this.#finishStep(w, collected.get(w), history.nextRevision);
    return this.#unsynced.size > 0;
  }

  /** Moves every victim back to the unsynced group (they are retried from history). */
  retryVictims(): void {
    if (this.#victimTimer !== undefined) clearTimeout(this.#victimTimer);
    this.#victimTimer = undefined;
    if (this.#closed) return;
    const victims = [...this.#victims];
    this.#victims.clear();
    for (const w of victims) this.#toUnsynced(w);
  }

  /**
   * Answers a client's progress request for one watcher: an empty batch at the last notified
   * revision, only when the watcher is synced (etcd's watchableStore.progress). Returns whether
   * it was sent.
   */
  requestProgress(watcher: Watcher): boolean {
    const w = this.#watchers.get(watcher.id);
    if (w === undefined || w !== watcher || w.state !== 'synced') return false;
    return this.#offer(w, { events: [], revision: this.#revision }, { progress: true });
  }

  /**
   * etcd's progressAll for a stream-wide progress request: the last notified revision when every
   * given watcher is synced (the gRPC layer then answers once, with watch id -1), else undefined.
   */
  progressIfSynced(watchers: Iterable<Watcher>): number | undefined {
    for (const watcher of watchers) {
      const w = this.#watchers.get(watcher.id);
      if (w === undefined || w.state !== 'synced') return undefined;
    }
    return this.#revision;
  }

  /**
   * A progress interval elapsed: every synced progressNotify watcher that got no events since the
   * previous tick gets an empty batch at the last notified revision (etcd's progress ticker).
   */
  progressTick(): void {
    if (this.#closed) return;
    for (const w of this.#progressWatchers) {
      if (w.state === 'synced' && !w.gotEvents) {
        this.#offer(w, { events: [], revision: this.#revision }, { progress: true });
      }
      w.gotEvents = false;
    }
  }

  /** Cancels every watcher and stops the timers. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    for (const w of [...this.#watchers.values()]) this.#remove(w);
    this.#closed = true;
    if (this.#victimTimer !== undefined) clearTimeout(this.#victimTimer);
    if (this.#progressTimer !== undefined) clearInterval(this.#progressTimer);
    this.#victimTimer = undefined;
    this.#progressTimer = undefined;
    return Promise.resolve();
  }

  /** Picks the next unsynced watchers; answers (and drops) those whose start was compacted. */
  #chooseUnsynced(): HubWatcher[] {
    const compactRevision = this.#store.compactRevision;
    const chosen: HubWatcher[] = [];
    for (const w of this.#unsynced) {
      if (chosen.length >= this.#options.maxWatchersPerSync) break;
      if (w.nextRevision < compactRevision) {
        // etcd: `if w.minRev < compactRev` → one response with CompactRevision, then removed.
        const batch = { events: [], revision: this.#revision, compactRevision };
        if (this.#offer(w, batch)) this.#remove(w);
        else this.#toVictim(w);
        continue;
      }
      chosen.push(w);
    }
    return chosen;
  }

  /** Hands one watcher its share of a history chunk and moves it on. */
  #finishStep(w: HubWatcher, events: Event[] | undefined, nextRevision: number): void {
    if (w.state !== 'unsynced') return; // cancelled by a sink call during this step
    if (events !== undefined) {
      const batch = w.prevKv ? events : events.map(withoutPrevKv);
      if (!this.#offer(w, { events: batch, revision: this.#revision })) {
        this.#toVictim(w);
        return;
      }
    }
    w.nextRevision = Math.max(w.nextRevision, nextRevision);
    if (w.nextRevision > this.#revision) {
      this.#toSynced(w);
    } else {
      this.#unsynced.delete(w); // to the back of the line
      this.#unsynced.add(w);
    }
  }

  /** Offers a batch to a watcher's sink; true when taken. */
  #offer(w: HubWatcher, batch: WatchBatch, how: { progress?: boolean } = {}): boolean {
    const taken = w.sink(batch, w);
    if (taken && how.progress !== true && batch.events.length > 0) w.gotEvents = true;
    return taken;
  }

  /**
   * An event with its previous key-value, for a watcher that asked. A write made without prevKv
   * carries none: read it at modRevision - 1 (as etcd's watch server does), once per event.
   */
  #withPrevKv(event: Event, cache: Map<Event, Event>): Event {
    // NB: etcd sends no prev_kv with a put that created the key (isCreateEvent), even when the
    // same txn deleted an older version of it first.
    if (event.type === EventType.put && event.kv.version === 1) return withoutPrevKv(event);
    // NB: etcd's prev_kv is the key at modRevision - 1: a write's own prevKv is that, unless an
    // earlier op of the same txn wrote the key (a put, then a delete over a "\0"-ended range).
    if (event.prevKv !== undefined && event.prevKv.modRevision < event.kv.modRevision) return event;
    const cached = cache.get(event);
    if (cached !== undefined) return cached;
    let found = withoutPrevKv(event);
    try {
      const { kvs } = this.#store.range(event.kv.key, undefined, {
        revision: event.kv.modRevision - 1,
      });
      if (kvs[0] !== undefined) found = { ...event, prevKv: kvs[0] };
    } catch (error) {
      // Compacted meanwhile: etcd sends the event without prevKv then too.
      if (!isMvccError(error, MvccErrorCode.compacted)) throw error;
    }
    cache.set(event, found);
    return found;
  }

  #toSynced(w: HubWatcher): void {
    this.#unsynced.delete(w);
    this.#victims.delete(w);
    w.state = 'synced';
    this.#synced.add(w);
  }

  #toUnsynced(w: HubWatcher): void {
    this.#synced.delete(w);
    this.#victims.delete(w);
    w.state = 'unsynced';
    this.#unsynced.add(w);
    this.#scheduleSync();
  }

  #toVictim(w: HubWatcher): void {
    this.#synced.delete(w);
    this.#unsynced.delete(w);
    w.state = 'victim';
    this.#victims.add(w);
    this.#scheduleVictimRetry();
  }

  #remove(w: HubWatcher): void {
    this.#synced.delete(w);
    this.#unsynced.delete(w);
    this.#victims.delete(w);
    this.#progressWatchers.delete(w);
    this.#watchers.delete(w.id);
    w.state = 'cancelled';
  }

  #scheduleSync(): void {
    if (this.#options.manual || this.#closed || this.#syncScheduled) return;
    this.#syncScheduled = true;
    // One bounded step per turn of the event loop: writes and notifies run in between.
    setImmediate(() => {
      this.#syncScheduled = false;
      // NB: a defragmentation or snapshot install has the store offline: look again shortly.
      if (this.#store.offline) {
        setTimeout(() => this.#scheduleSync(), OFFLINE_RETRY_MS).unref();
        return;
      }
      if (this.syncUnsynced()) this.#scheduleSync();
    });
  }

  #scheduleVictimRetry(): void {
    if (this.#options.manual || this.#closed || this.#victimTimer !== undefined) return;
    this.#victimTimer = setTimeout(() => this.retryVictims(), this.#options.victimRetryMs);
    this.#victimTimer.unref();
  }
}
