// Write load and its check. A WriteLoad runs K concurrent clients, each putting fresh unique keys
// to one running voter at a time (moving on to another when a call fails) and recording every
// acknowledged put with its revision. verifyCluster then checks that every acknowledged key is
// readable, with that revision, from every member (serializable reads, member by member), and
// that HashKV is equal on every member at one revision.
import assert from 'node:assert/strict';
import { type Cluster, type ClusterMember, HEALTHY_TIMEOUT_MS, sleep, waitFor } from './cluster.ts';
import { describeError } from './grpc-client.ts';

/** One acknowledged put. */
export interface Ack {
  value: string;
  revision: number;
}

/** Options of a WriteLoad. */
export interface LoadOptions {
  /** Concurrent clients (default 8). */
  clients?: number;
  /** Key prefix (default `load/`); keys are `<prefix><client>/<seq>`. */
  prefix?: string;
  /** Pause between two puts of one client, ms (default 2): keeps the shared machine usable. */
  pauseMs?: number;
  /** Stop once this many puts are acknowledged. */
  total?: number;
  /** Per-put deadline, ms (default 10 s). */
  deadlineMs?: number;
}

/** K clients putting unique keys until stopped; what was acknowledged, and what failed. */
export class WriteLoad {
  readonly acked = new Map<string, Ack>();
  /** Failure → count (a failed put's outcome is unknown; only acks are checked). */
  readonly failures = new Map<string, number>();
  readonly #cluster: Cluster;
  readonly #options: Required<Omit<LoadOptions, 'total'>> & { total: number };
  #stopping = false;
  #loops: Promise<void>[] = [];

  constructor(cluster: Cluster, options: LoadOptions = {}) {
    this.#cluster = cluster;
    this.#options = {
      clients: options.clients ?? 8,
      prefix: options.prefix ?? 'load/',
      pauseMs: options.pauseMs ?? 2,
      total: options.total ?? Infinity,
      deadlineMs: options.deadlineMs ?? 10_000,
    };
  }

  /** Starts the clients. */
  start(): this {
    for (let i = 0; i < this.#options.clients; i++) this.#loops.push(this.#run(i));
    return this;
  }

  async #run(client: number): Promise<void> {
    let seq = 0;
    let turn = client;
    while (!this.#stopping && this.acked.size < this.#options.total) {
      const voters = this.#cluster.voters();
      const member = voters[turn % Math.max(1, voters.length)];
      if (member === undefined) {
        await sleep(100);
        continue;
      }
      const { prefix } = this.#options;
      const key = `${prefix}${String(client).padStart(2, '0')}/${String(seq++).padStart(7, '0')}`;
      const value = `${member.name}-${key}-${Date.now()}`;
      try {
        const res = await member.client.put(key, value, { deadlineMs: this.#options.deadlineMs });
        this.acked.set(key, { value, revision: res.header!.revision });
        if (this.#options.pauseMs > 0) await sleep(this.#options.pauseMs);
      } catch (err) {
        // grpc-js appends timings and addresses to some statuses: not part of what failed.
        const noise = /,?\s*(name resolution|LB pick|remote_addr).*$/;
        const what = describeError(err).replace(noise, '');
        this.failures.set(what, (this.failures.get(what) ?? 0) + 1);
        turn += 1;
        await sleep(100);
      }
    }
  }

  /** Waits until `count` more puts than now have been acknowledged. */
  async progress(count: number, timeoutMs = HEALTHY_TIMEOUT_MS): Promise<void> {
    const target = this.acked.size + count;
    await waitFor(
      `${count} more acknowledged writes (have ${this.acked.size}, want ${target}; ` +
        `failures: ${this.describeFailures()})`,
      async () => {
        const enough = this.acked.size >= target || this.acked.size >= this.#options.total;
        return enough ? true : undefined;
      },
      timeoutMs,
      50,
    );
  }

  /** Waits for the clients to stop by themselves (with `total`). */
  async done(): Promise<void> {
    await Promise.all(this.#loops);
  }

  /** Stops the clients and waits for their calls in flight. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#loops);
  }

  describeFailures(): string {
    return [...this.failures].map(([k, v]) => `${v}× ${k}`).join('; ') || 'none';
  }
}

/** Runs `body` with a WriteLoad going; the load is always stopped. Returns the load. */
export async function underLoad(
  cluster: Cluster,
  body: (load: WriteLoad) => Promise<void>,
  options: LoadOptions = {},
): Promise<WriteLoad> {
  const load = new WriteLoad(cluster, options).start();
  try {
    await load.progress(50);
    await body(load);
    await load.progress(50);
  } finally {
    await load.stop();
  }
  return load;
}

/** A put through any running voter, retried until one acknowledges it; returns its revision. */
export async function putSomewhere(cluster: Cluster, key: string, value: string): Promise<number> {
  return waitFor(`a put of ${key} to be acknowledged`, async () => {
    for (const m of cluster.voters()) {
      try {
        return (await m.client.put(key, value, { deadlineMs: 10_000 })).header!.revision;
      } catch {
        // try the next member
      }
    }
    return undefined;
  });
}

/** Waits until `member` has applied `revision` (its own serializable view). */
export async function waitApplied(member: ClusterMember, revision: number): Promise<void> {
  await waitFor(`${member.name} to apply revision ${revision}`, async () => {
    const res = await member.client.range('verify/sentinel', {
      serializable: true,
      deadlineMs: 5000,
    });
    return res.header!.revision >= revision ? true : undefined;
  });
}

/** What verifyCluster found. */
export interface Verified {
  revision: number;
  hash: number;
  keys: number;
}

/**
 * Every acknowledged put is readable from every one of `members` (default: every running member)
 * with its value and revision, and HashKV is equal on all of them at one revision.
 */
export async function verifyCluster(
  cluster: Cluster,
  acked: ReadonlyMap<string, Ack>,
  options: { members?: readonly ClusterMember[]; prefix?: string } = {},
): Promise<Verified> {
  const members = options.members ?? cluster.running().filter((m) => !m.removed);
  const prefix = options.prefix ?? 'load/';
  const revision = await putSomewhere(cluster, 'verify/sentinel', `at ${Date.now()}`);
  const hashes: Array<{ name: string; hash: number; compactRevision: number }> = [];
  for (const m of members) {
    await waitApplied(m, revision);
    const res = await m.client.range(prefix, {
      prefix: true,
      serializable: true,
      deadlineMs: 60_000,
    });
    const seen = new Map(res.kvs.map((kv) => [Buffer.from(kv.key).toString(), kv]));
    const missing: string[] = [];
    const wrong: string[] = [];
    for (const [key, ack] of acked) {
      if (!key.startsWith(prefix)) continue;
      const kv = seen.get(key);
      if (kv === undefined) missing.push(key);
      else if (Buffer.from(kv.value).toString() !== ack.value || kv.modRevision !== ack.revision) {
        wrong.push(`${key}: acked rev ${ack.revision}, read rev ${kv.modRevision}`);
      }
    }
    assert.deepEqual(
      { missing: missing.slice(0, 20), missingCount: missing.length, wrong: wrong.slice(0, 20) },
      { missing: [], missingCount: 0, wrong: [] },
      `${m.name}: acknowledged writes not readable (of ${acked.size} acked)`,
    );
    const hk = await m.client.hashKV(revision, { deadlineMs: 60_000 });
    hashes.push({ name: m.name, hash: hk.hash, compactRevision: hk.compactRevision });
  }
  const first = hashes[0]!;
  for (const h of hashes) {
    assert.deepEqual(
      { hash: h.hash, compactRevision: h.compactRevision },
      { hash: first.hash, compactRevision: first.compactRevision },
      `HashKV at revision ${revision}: ${h.name} differs from ${first.name}: ` +
        JSON.stringify(hashes),
    );
  }
  return { revision, hash: first.hash, keys: acked.size };
}

/** Timeout of a test that uses a cluster, ms: generous, the machine is shared. */
export const CLUSTER_TEST_TIMEOUT_MS = 300_000;
