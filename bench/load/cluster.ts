// A 3-member cluster (concord or real etcd) for the cluster benchmark, started with etcd's
// clustering recipe: member k on its own loopback address (127.0.0.2k by default), free ports,
// its own data dir under one temporary root on disk, its output written to a log file beside it.
// Members can be killed with SIGKILL and restarted with the same flags. Every process started here
// is registered so that stopAllClusters() (called on exit, SIGINT, SIGTERM and failure) ends it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import http2 from 'node:http2';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codec, GRPC_FRAME_HEADER_BYTES, services, type StatusResponse } from '../../src/proto/index.ts';
import { ETCD_BIN } from '../../test/integration/etcd-process.ts';
import type { ServerKind } from './servers.ts';

const root = join(import.meta.dirname, '..', '..');
/** `node bin/concord.js` registers tsx itself. */
export const CONCORD_BIN = join(root, 'bin', 'concord.js');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every child process alive, across clusters: killed by stopAllClusters(). */
const live = new Set<ChildProcess>();
/** Every cluster not yet destroyed. */
const clusters = new Set<BenchCluster>();

/**
 * SIGKILLs every process this module started and removes the data of every cluster not yet
 * destroyed (synchronous: safe in an 'exit' handler).
 */
export function killAllNow(): void {
  for (const child of live) child.kill('SIGKILL');
  for (const c of clusters) rmSync(c.rootDir, { recursive: true, force: true });
}

/** Stops every cluster still up (SIGKILL, then removes data). */
export async function stopAllClusters(): Promise<void> {
  await Promise.all([...clusters].map((c) => c.destroy()));
}

/** A free TCP port on `host` (bound and released). */
export async function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** What a unary call returned, or why it did not. */
export interface CallOutcome {
  /** gRPC status; -1 when the call did not complete (connection error, timeout). */
  grpcStatus: number;
  grpcMessage: string;
  message: Buffer;
}

/**
 * One unary gRPC call on an existing session, bounded by `timeoutMs` (sent as grpc-timeout and
 * enforced here by cancelling the stream). Never rejects.
 */
export function callOn(session: http2.ClientHttp2Session, path: string, frame: Buffer, timeoutMs: number): Promise<CallOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: CallOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    let req: http2.ClientHttp2Stream;
    try {
      req = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${timeoutMs}m`,
      });
    } catch (err) {
      resolve({ grpcStatus: -1, grpcMessage: `request: ${(err as Error).message}`, message: Buffer.alloc(0) });
      return;
    }
    const timer = setTimeout(() => {
      req.close(http2.constants.NGHTTP2_CANCEL);
      done({ grpcStatus: -1, grpcMessage: `no answer in ${timeoutMs} ms`, message: Buffer.alloc(0) });
    }, timeoutMs);
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let msg = '';
    req.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) status = String(headers['grpc-status']);
      if (headers['grpc-message'] !== undefined) msg = decodeURIComponent(String(headers['grpc-message']));
    });
    req.on('trailers', (trailers) => {
      status = String(trailers['grpc-status']);
      msg = decodeURIComponent(String(trailers['grpc-message'] ?? ''));
    });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('error', (err: Error) => done({ grpcStatus: -1, grpcMessage: `stream: ${err.message}`, message: Buffer.alloc(0) }));
    req.on('close', () => {
      const data = Buffer.concat(chunks);
      done({
        grpcStatus: status === undefined ? -1 : Number(status),
        grpcMessage: status === undefined ? 'stream closed without grpc-status' : msg,
        message: data.subarray(GRPC_FRAME_HEADER_BYTES),
      });
    });
    req.end(frame);
  });
}

/** A short-lived session for one call (status probes, setup). */
export async function callOnce(endpoint: string, path: string, frame: Buffer, timeoutMs: number): Promise<CallOutcome> {
  const session = http2.connect(`http://${endpoint}`);
  session.on('error', () => undefined); // reported through the stream
  try {
    return await callOn(session, path, frame, timeoutMs);
  } finally {
    session.destroy();
  }
}

const STATUS_PATH = services['etcdserverpb.Maintenance'].Status.path;
const STATUS_FRAME = codec('etcdserverpb.StatusRequest').encodeFrame({});

/** One member of a BenchCluster. */
export class BenchMember {
  readonly name: string;
  readonly host: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly logPath: string;
  /** Learned from the member's own Status (stable across restarts). */
  id: bigint | undefined;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log: WriteStream | undefined;
  #starts = 0;

  constructor(spec: { name: string; host: string; clientPort: number; peerPort: number; dataDir: string; logPath: string }) {
    this.name = spec.name;
    this.host = spec.host;
    this.clientPort = spec.clientPort;
    this.peerPort = spec.peerPort;
    this.dataDir = spec.dataDir;
    this.logPath = spec.logPath;
  }

  get endpoint(): string {
    return `${this.host}:${this.clientPort}`;
  }
  get clientUrl(): string {
    return `http://${this.endpoint}`;
  }
  get peerUrl(): string {
    return `http://${this.host}:${this.peerPort}`;
  }
  get pid(): number {
    if (this.#child?.pid === undefined) throw new Error(`${this.name} is not running`);
    return this.#child.pid;
  }
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The recipe's flags, literally (a restart reuses them: the data dir makes --initial-* moot). */
  recipe(initialCluster: string, token: string): string[] {
    return [
      `--data-dir=${this.dataDir}`,
      '--name', this.name,
      '--initial-advertise-peer-urls', this.peerUrl,
      '--listen-peer-urls', this.peerUrl,
      '--advertise-client-urls', this.clientUrl,
      '--listen-client-urls', this.clientUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', token,
    ];
  }

  start(kind: ServerKind, flags: string[]): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const [cmd, args] = kind === 'etcd' ? [ETCD_BIN, flags] : [process.execPath, [CONCORD_BIN, ...flags]];
    this.#starts += 1;
    this.#log ??= createWriteStream(this.logPath, { flags: 'a' });
    this.#log.write(`\n----- ${this.name} start #${this.#starts} at ${new Date().toISOString()}: ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const log = this.#log;
    const write = (d: Buffer | string): void => {
      if (!log.writableEnded) log.write(d);
    };
    child.stdout!.on('data', write);
    child.stderr!.on('data', write);
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        write(`\n----- ${this.name} exited at ${new Date().toISOString()}: code ${code} signal ${signal}\n`);
        resolve();
      });
    });
  }

  /** kill -9, and wait for the exit to be seen. Returns the time the signal was sent (ms, performance clock). */
  async kill9(): Promise<number> {
    const at = performance.now();
    if (this.running) this.#child!.kill('SIGKILL');
    await this.#exited;
    return at;
  }

  /** SIGTERM; SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return this.#exited;
    this.#child!.kill('SIGTERM');
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  async closeLog(): Promise<void> {
    const log = this.#log;
    this.#log = undefined;
    if (log !== undefined) await new Promise<void>((r) => log.end(r));
  }

  /** Maintenance.Status of this member; undefined when it does not answer OK in `timeoutMs`. */
  async status(timeoutMs = 2000): Promise<StatusResponse | undefined> {
    if (!this.running) return undefined;
    const out = await callOnce(this.endpoint, STATUS_PATH, STATUS_FRAME, timeoutMs);
    if (out.grpcStatus !== 0) return undefined;
    const s = codec('etcdserverpb.StatusResponse').decode(out.message);
    if (s.header?.memberId !== undefined) this.id = s.header.memberId;
    return s;
  }

  /** The tail of this member's log file. */
  logTail(bytes = 6000): string {
    try {
      const text = readFileSync(this.logPath, 'utf8');
      return text.slice(-bytes);
    } catch {
      return '(no log)';
    }
  }
}

/** What waitStable() saw. */
export interface StableView {
  leader: BenchMember;
  term: number;
  appliedIndex: number;
}

/** Three members of one kind, each fresh. */
export class BenchCluster {
  readonly kind: ServerKind;
  readonly rootDir: string;
  readonly token: string;
  readonly members: BenchMember[];
  #destroyed: Promise<void> | undefined;

  private constructor(kind: ServerKind, rootDir: string, token: string, members: BenchMember[]) {
    this.kind = kind;
    this.rootDir = rootDir;
    this.token = token;
    this.members = members;
    clusters.add(this);
  }

  get initialCluster(): string {
    return this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  }

  /** The recipe of member `m` (as started). */
  flags(m: BenchMember): string[] {
    return m.recipe(this.initialCluster, this.token);
  }

  /** The command line of member `m`, for the record, with the data dir abbreviated. */
  command(m: BenchMember): string {
    const bin = this.kind === 'etcd' ? 'etcd' : 'node bin/concord.js';
    return `${bin} ${this.flags(m).join(' ').replace(this.rootDir, '$TMP')}`;
  }

  /** Starts `size` members on hosts `${hostPrefix}${base + k}` and waits for one agreed leader. */
  static async start(kind: ServerKind, options: { size?: number; hostPrefix?: string; hostBase?: number; parentDir?: string } = {}): Promise<BenchCluster> {
    const size = options.size ?? 3;
    const rootDir = mkdtempSync(join(options.parentDir ?? tmpdir(), `${kind}-cluster-bench-`));
    const members: BenchMember[] = [];
    for (let k = 1; k <= size; k++) {
      const host = `${options.hostPrefix ?? '127.0.0.'}${(options.hostBase ?? 20) + k}`;
      const dir = join(rootDir, `n${k}`);
      mkdirSync(dir);
      members.push(
        new BenchMember({
          name: `n${k}`,
          host,
          clientPort: await freePortOn(host),
          peerPort: await freePortOn(host),
          dataDir: join(dir, 'data.etcd'),
          logPath: join(dir, 'member.log'),
        }),
      );
    }
    const token = `bench-${kind}-${process.pid}-${Date.now()}`;
    const cluster = new BenchCluster(kind, rootDir, token, members);
    try {
      for (const m of members) m.start(kind, cluster.flags(m));
      await cluster.waitStable(90_000);
    } catch (err) {
      throw await cluster.failure(err, 'starting');
    }
    return cluster;
  }

  /**
   * Waits until every running member answers Status, all name the same leader (a running member)
   * in the same term, and all have applied the same index.
   */
  async waitStable(timeoutMs = 60_000): Promise<StableView> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      const running = this.members.filter((m) => m.running);
      const statuses = await Promise.all(running.map((m) => m.status()));
      const missing = running.filter((_, i) => statuses[i] === undefined);
      if (missing.length === 0 && statuses.length > 0) {
        const ss = statuses as StatusResponse[];
        const leaders = new Set(ss.map((s) => s.leader));
        const terms = new Set(ss.map((s) => s.raftTerm));
        const applied = new Set(ss.map((s) => s.raftAppliedIndex));
        const leader = running.find((m) => m.id !== undefined && m.id === ss[0]!.leader);
        if (leaders.size === 1 && terms.size === 1 && applied.size === 1 && leader !== undefined) {
          return { leader, term: ss[0]!.raftTerm, appliedIndex: ss[0]!.raftAppliedIndex };
        }
        last = running
          .map((m, i) => `${m.name}: leader ${ss[i]!.leader.toString(16)} term ${ss[i]!.raftTerm} applied ${ss[i]!.raftAppliedIndex}`)
          .join('; ');
      } else {
        last = `no Status from ${missing.map((m) => m.name).join(', ')}`;
      }
      await sleep(200);
    }
    throw new Error(`${this.kind} cluster not stable after ${timeoutMs} ms: ${last}`);
  }

  /** The member every member names as leader (waits for agreement). */
  async leader(): Promise<BenchMember> {
    return (await this.waitStable()).leader;
  }

  /** Restarts a stopped member with its recipe flags and waits for the cluster to be stable. */
  async restart(m: BenchMember): Promise<StableView> {
    m.start(this.kind, this.flags(m));
    return this.waitStable(120_000);
  }

  /**
   * Wraps an error with every member's log tail and a copy of the logs kept outside the data
   * root (which destroy() removes), so a failure can be reported as it happened.
   */
  async failure(err: unknown, during: string): Promise<Error> {
    const keep = mkdtempSync(join(tmpdir(), `${this.kind}-cluster-bench-failure-`));
    const parts = [`${this.kind} cluster failed while ${during}: ${(err as Error).message}`, `full member logs: ${keep}`];
    for (const m of this.members) {
      await m.closeLog();
      try {
        writeFileSync(join(keep, `${m.name}.log`), readFileSync(m.logPath));
      } catch {
        // no log written
      }
      parts.push(`----- ${m.name} (${m.endpoint}, ${m.running ? 'running' : 'not running'}), last lines:\n${m.logTail()}`);
    }
    return new Error(parts.join('\n'));
  }

  /** Stops every member (SIGTERM, then SIGKILL) and removes the data. Idempotent. */
  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      await Promise.all(this.members.map((m) => m.stop(10_000)));
      await Promise.all(this.members.map((m) => m.closeLog()));
      rmSync(this.rootDir, { recursive: true, force: true });
      clusters.delete(this);
    })();
    return this.#destroyed;
  }
}
