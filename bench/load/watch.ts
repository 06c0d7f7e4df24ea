// Watch event latency, as etcd's `benchmark watch-latency` defines it: the time from sending a Put
// to a watcher receiving its event. --watchers streams (over --conns connections) watch the
// benchmark's key range; puts go out on their own connection, --in-flight at a time. Each value
// starts with the put's sequence number, which maps an event back to its send time.
import { performance } from 'node:perf_hooks';
import { codec } from '../../src/proto/index.ts';
import { type H2Conn, RequestTemplate, grpcHeaderBlock } from './h2-conn.ts';
import { connectAll } from './lean.ts';
import { type BenchOptions, PATHS, keyOf, keyPicker, patchKey, unaryBody } from './workload.ts';

/** Digits of the sequence number at the start of each value. */
const SEQ_DIGITS = 10;
/** How long to wait for late events once every put has been answered (ms). */
const EVENT_GRACE_MS = 10_000;

/** What a watch run measured. */
export interface WatchReport {
  elapsedSeconds: number;
  putsSucceeded: number;
  eventsExpected: number;
  eventsReceived: number;
  /** put → event, one per event received, in ms. */
  latenciesMs: Float64Array;
  cpuSeconds: number;
}

const watchResponse = codec('etcdserverpb.WatchResponse');

/** One watch stream: reassembles gRPC messages from DATA payloads. */
class WatchStream {
  #pending: Buffer = Buffer.alloc(0);
  #created: (() => void) | undefined;
  readonly created = new Promise<void>((resolve) => (this.#created = resolve));
  ended = false;
  readonly #onEvent: (seq: number) => void;

  constructor(onEvent: (seq: number) => void) {
    this.#onEvent = onEvent;
  }

  onData(payload: Buffer): void {
    let buf = this.#pending.length === 0 ? payload : Buffer.concat([this.#pending, payload]);
    while (buf.length >= 5) {
      const length = buf.readUInt32BE(1);
      if (buf.length < 5 + length) break;
      const msg = watchResponse.decode(buf.subarray(5, 5 + length));
      buf = buf.subarray(5 + length);
      if (msg.created) this.#created?.();
      for (const ev of msg.events) {
        const value = ev.kv?.value;
        if (value !== undefined) this.#onEvent(Number(Buffer.from(value.buffer, value.byteOffset, SEQ_DIGITS).toString('latin1')));
      }
    }
    this.#pending = Buffer.from(buf);
  }

  onEnd(): void {
    this.ended = true;
    this.#created?.();
  }
}

async function openWatchers(o: BenchOptions, conns: H2Conn[], onEvent: (seq: number) => void): Promise<WatchStream[]> {
  const create = codec('etcdserverpb.WatchRequest').encodeFrame({
    createRequest: { key: keyOf(0, o.keyBytes), rangeEnd: '9'.repeat(o.keyBytes) + '\0' },
  });
  const streams: WatchStream[] = [];
  for (let i = 0; i < o.watchers; i++) {
    const ci = i % conns.length;
    const authority = o.endpoints[ci % o.endpoints.length]!;
    const t = new RequestTemplate(grpcHeaderBlock(authority, PATHS.watch), create, { endStream: false });
    const stream = new WatchStream(onEvent);
    conns[ci]!.request(t.instantiate(), t.bodyBytes, stream, { wantData: true });
    streams.push(stream);
  }
  await Promise.all(streams.map((s) => s.created));
  if (streams.some((s) => s.ended)) throw new Error('bench: a watch stream ended before it was created');
  return streams;
}

/** Runs the watch-latency workload. */
export async function runWatch(o: BenchOptions): Promise<WatchReport> {
  if (o.valueBytes < SEQ_DIGITS) throw new Error(`bench: watch needs --val-size >= ${SEQ_DIGITS}`);
  const sentMs = new Float64Array(o.total);
  const latencies = new Float64Array(o.total * o.watchers);
  let received = 0;
  let allReceived: (() => void) | undefined;
  const everyEvent = new Promise<void>((resolve) => (allReceived = resolve));
  const onEvent = (seq: number): void => {
    if (!(seq >= 0 && seq < o.total) || received >= latencies.length) return;
    latencies[received++] = performance.now() - sentMs[seq]!;
    if (received === latencies.length) allReceived?.();
  };
  const watchConns = await connectAll(o.endpoints, o.conns);
  const putConns = await connectAll(o.endpoints, 1).catch((err: unknown) => {
    for (const c of watchConns) c.close();
    throw err;
  });
  try {
    await openWatchers(o, watchConns, onEvent);
    const putConn = putConns[0]!;
    const body = unaryBody({ ...o, workload: 'put' });
    const template = new RequestTemplate(grpcHeaderBlock(o.endpoints[0]!, body.path), body.frame, { endStream: true });
    // The value follows the key: its first bytes carry the sequence number.
    const valueOffset = template.bodyOffset + body.frame.lastIndexOf('v'.repeat(o.valueBytes), undefined, 'latin1');
    const nextKey = keyPicker(o);
    const cpuStart = process.cpuUsage();
    const startMs = performance.now();
    let issued = 0;
    let answered = 0;
    let succeeded = 0;
    await new Promise<void>((resolve, reject) => {
      const issue = (): void => {
        if (putConn.error !== undefined) return reject(putConn.error);
        const seq = issued++;
        const frames = template.instantiate();
        patchKey(frames, template.bodyOffset + body.keyOffset, nextKey(), o.keyBytes);
        patchKey(frames, valueOffset, seq, SEQ_DIGITS);
        sentMs[seq] = performance.now();
        putConn.request(frames, template.bodyBytes, {
          onEnd: (bytes, reset) => {
            answered++;
            if (!reset && bytes > 0) succeeded++;
            if (answered === o.total) resolve();
            else if (issued < o.total) issue();
          },
        });
      };
      for (let i = 0; i < Math.min(o.inFlight, o.total); i++) issue();
    });
    const grace = new Promise<void>((r) => setTimeout(r, EVENT_GRACE_MS).unref());
    await Promise.race([everyEvent, grace]);
    const elapsedSeconds = (performance.now() - startMs) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    return {
      elapsedSeconds,
      putsSucceeded: succeeded,
      eventsExpected: o.total * o.watchers,
      eventsReceived: received,
      latenciesMs: latencies.subarray(0, received),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  } finally {
    for (const c of [...watchConns, ...putConns]) c.close();
  }
}
