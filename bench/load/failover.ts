// Failover time of a cluster: kill -9 of the leader → the first put that succeeds. A client keeps
// a connection open to each surviving member and, every ~10 ms, sends a put to each of them without
// waiting for earlier attempts (those may hang on a dead leader until their deadline); the clock
// stops at the first gRPC OK. Then the killed member is restarted with the same flags and the
// cluster is left stable (one leader, every member at the same applied index) for the next trial.
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { codec, services } from '../../src/proto/index.ts';
import { type BenchCluster, type BenchMember, callOn } from './cluster.ts';
import { PATHS } from './workload.ts';

/** One trial. */
export interface FailoverTrial {
  /** kill -9 sent → first put answered OK, in ms. */
  ms: number;
  /** kill -9 sent → a survivor's Status first names a new leader (a survivor), in ms. */
  electedMs: number;
  killed: string;
  /** Leader once the survivors agreed (after the first success). */
  newLeader: string;
  /** The member that answered the first successful put. */
  answeredBy: string;
  termBefore: number;
  termAfter: number;
  /** Puts sent before the first success. */
  attempts: number;
  /** What the failed attempts answered, by message. */
  errors: Record<string, number>;
  /** kill → the killed member back and the cluster stable again, in ms. */
  rejoinMs: number;
}

export interface FailoverOptions {
  /** Interval between rounds of attempts [10 ms]. */
  intervalMs?: number;
  /** Deadline of each attempt [5000 ms]. */
  attemptTimeoutMs?: number;
  /** Give up (an error: the cluster never took a write) after [60 s]. */
  giveUpMs?: number;
}

const PUT_FRAME = codec('etcdserverpb.PutRequest').encodeFrame({ key: 'bench-failover', value: 'x'.repeat(16) });
const STATUS_PATH = services['etcdserverpb.Maintenance'].Status.path;
const STATUS_FRAME = codec('etcdserverpb.StatusRequest').encodeFrame({});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A connection to one member, reopened when it fails. */
class Channel {
  readonly member: BenchMember;
  #session: http2.ClientHttp2Session | undefined;
  outstanding = 0;
  statusPending = false;

  constructor(member: BenchMember) {
    this.member = member;
  }

  get session(): http2.ClientHttp2Session {
    if (this.#session === undefined || this.#session.destroyed || this.#session.closed) {
      const s = http2.connect(this.member.clientUrl);
      s.on('error', () => undefined); // attempts on it fail and are counted
      this.#session = s;
    }
    return this.#session;
  }

  /** Opens the connection now, so the trial does not pay for it. */
  async ready(): Promise<void> {
    const s = this.session;
    if (s.connecting) await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('error', reject);
    });
  }

  close(): void {
    this.#session?.destroy();
    this.#session = undefined;
  }
}

/** Runs one trial on a stable cluster. */
export async function failoverTrial(cluster: BenchCluster, options: FailoverOptions = {}): Promise<FailoverTrial> {
  const intervalMs = options.intervalMs ?? 10;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 5000;
  const giveUpMs = options.giveUpMs ?? 60_000;
  const before = await cluster.waitStable();
  const victim = before.leader;
  const channels = cluster.members.filter((m) => m !== victim && m.running).map((m) => new Channel(m));
  await Promise.all(channels.map((c) => c.ready()));
  const errors: Record<string, number> = {};
  let attempts = 0;
  let first: { at: number; by: BenchMember } | undefined;
  let electedAt: number | undefined;
  const t0 = performance.now();
  const exited = victim.kill9(); // the signal is sent synchronously, before kill9's first await
  try {
    // Puts until one succeeds; Status probes (one outstanding per survivor) until one names a new leader.
    while (first === undefined || electedAt === undefined) {
      if (performance.now() - t0 > giveUpMs) {
        const missing = first === undefined ? 'no put succeeded' : 'no survivor named a new leader in Status';
        throw new Error(`${missing} within ${giveUpMs} ms of kill -9 of ${victim.name}; failed puts answered: ${JSON.stringify(errors)}`);
      }
      for (const c of channels) {
        if (electedAt === undefined && !c.statusPending) {
          c.statusPending = true;
          void callOn(c.session, STATUS_PATH, STATUS_FRAME, 1000).then((out) => {
            c.statusPending = false;
            if (out.grpcStatus !== 0) return;
            const leader = codec('etcdserverpb.StatusResponse').decode(out.message).leader;
            if (leader !== 0n && leader !== victim.id) electedAt ??= performance.now();
          });
        }
        if (first !== undefined || c.outstanding >= 500) continue;
        attempts++;
        c.outstanding++;
        void callOn(c.session, PATHS.put, PUT_FRAME, attemptTimeoutMs).then((out) => {
          c.outstanding--;
          if (out.grpcStatus === 0 && out.message.length > 0) {
            first ??= { at: performance.now(), by: c.member };
          } else if (first === undefined) {
            const key = `${out.grpcStatus}: ${out.grpcMessage.slice(0, 80)}`;
            errors[key] = (errors[key] ?? 0) + 1;
          }
        });
      }
      await sleep(intervalMs);
    }
  } finally {
    for (const c of channels) c.close();
    await exited;
  }
  const ms = first!.at - t0;
  const after = await cluster.waitStable();
  await cluster.restart(victim);
  return {
    ms,
    electedMs: electedAt! - t0,
    killed: victim.name,
    newLeader: after.leader.name,
    answeredBy: first.by.name,
    termBefore: before.term,
    termAfter: after.term,
    attempts,
    errors,
    rejoinMs: performance.now() - t0,
  };
}
