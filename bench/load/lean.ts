// The lean unary driver: pre-encoded request frames on raw HTTP/2 connections (h2-conn.ts), the
// key rewritten in place per request, so keys can vary (which h2load's one fixed body cannot).
// Every connection keeps its share of --in-flight outstanding until --total were issued.
import { performance } from 'node:perf_hooks';
import { H2Conn, RequestTemplate, grpcHeaderBlock, type StreamHandler } from './h2-conn.ts';
import { type BenchOptions, keyPicker, patchKey, unaryBody } from './workload.ts';

/** What a lean run measured. */
export interface LeanReport {
  elapsedSeconds: number;
  succeeded: number;
  failed: number;
  /** Bytes of response messages received, in all. */
  dataBytes: number;
  latenciesMs: Float64Array;
  /** This process's CPU seconds during the run (user + system). */
  cpuSeconds: number;
}

/** Opens `count` connections, round-robin over the endpoints. */
export async function connectAll(endpoints: readonly string[], count: number): Promise<H2Conn[]> {
  const conns: H2Conn[] = [];
  try {
    for (let i = 0; i < count; i++) conns.push(await H2Conn.connect(endpoints[i % endpoints.length]!));
  } catch (err) {
    for (const c of conns) c.close();
    throw err;
  }
  return conns;
}

class Pending implements StreamHandler {
  readonly startMs: number;
  readonly #onDone: (p: Pending, dataBytes: number, reset: boolean) => void;

  constructor(startMs: number, onDone: (p: Pending, dataBytes: number, reset: boolean) => void) {
    this.startMs = startMs;
    this.#onDone = onDone;
  }

  onEnd(dataBytes: number, reset: boolean): void {
    this.#onDone(this, dataBytes, reset);
  }
}

/** Runs a unary workload (put, range, txn) with varying keys. */
export async function runLeanUnary(o: BenchOptions): Promise<LeanReport> {
  const body = unaryBody(o);
  const conns = await connectAll(o.endpoints, o.conns);
  try {
    const templates = conns.map((_, i) => {
      const authority = o.endpoints[i % o.endpoints.length]!;
      return new RequestTemplate(grpcHeaderBlock(authority, body.path), body.frame, { endStream: true });
    });
    const nextKey = keyPicker(o);
    const latencies = new Float64Array(o.total);
    let issued = 0;
    let completed = 0;
    let succeeded = 0;
    let dataBytes = 0;
    const cpuStart = process.cpuUsage();
    const startMs = performance.now();
    const done = new Promise<void>((resolve, reject) => {
      const issue = (ci: number): void => {
        const conn = conns[ci]!;
        if (conn.error !== undefined) return reject(conn.error);
        const template = templates[ci]!;
        const frames = template.instantiate();
        patchKey(frames, template.bodyOffset + body.keyOffset, nextKey(), o.keyBytes);
        issued++;
        conn.request(frames, template.bodyBytes, new Pending(performance.now(), (p, bytes, reset) => finish(ci, p, bytes, reset)));
      };
      const finish = (ci: number, p: Pending, bytes: number, reset: boolean): void => {
        latencies[completed++] = performance.now() - p.startMs;
        if (!reset && bytes > 0) succeeded++;
        dataBytes += bytes;
        if (completed === o.total) return resolve();
        if (issued < o.total) issue(ci);
      };
      // Spread --in-flight over the connections; a connection never exceeds the server's limit.
      for (let i = 0; i < Math.min(o.inFlight, o.total); i++) {
        const ci = i % conns.length;
        if (conns[ci]!.openStreams >= conns[ci]!.peerMaxStreams) continue;
        issue(ci);
      }
    });
    await done;
    const elapsedSeconds = (performance.now() - startMs) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    return {
      elapsedSeconds,
      succeeded,
      failed: o.total - succeeded,
      dataBytes,
      latenciesMs: latencies,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  } finally {
    for (const c of conns) c.close();
  }
}
