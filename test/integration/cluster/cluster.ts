// Clusters of real processes for the cluster tests: N members of a chosen binary (`concord`, or
// the real etcd to prove the tests right), started with etcd's clustering recipe literally, member
// k on its own loopback address 127.0.0.(10+k) with free ports and its own data dir under one temp
// root. A test drives members (kill -9, SIGTERM, restart with the same flags, member add/remove)
// and every process it started is stopped, and the temp root removed, even when it fails.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../concord-process.ts';
import { ETCD_BIN, ETCDCTL_BIN } from '../etcd-process.ts';
import { describeError, MemberClient } from './grpc-client.ts';

const root = join(import.meta.dirname, '..', '..', '..');

/** Which server the cluster tests run against. */
export type ClusterBinary = 'concord' | 'etcd';

/** `CLUSTER_BINARY=etcd` runs the suite against the real etcd; the default is concord. */
export const clusterBinary: ClusterBinary =
  process.env['CLUSTER_BINARY'] === 'etcd' ? 'etcd' : 'concord';

/** Skip (locally) or fail (CI=true) when a tool the suite needs is missing. */
export function clusterSkip(): string | false {
  const tools = [requireTool(ETCDCTL_BIN)];
  if (clusterBinary === 'etcd') tools.push(requireTool(ETCD_BIN));
  return tools.find((t) => t.skip !== false)?.skip ?? false;
}

/** Generous failure bounds (the machine is shared): never assertions on speed. */
export const HEALTHY_TIMEOUT_MS = 90_000;
export const STOP_TIMEOUT_MS = 30_000;

/** Every child still running and every temp root, killed and removed if the process exits first. */
const live = new Set<ChildProcess>();
const roots = new Set<string>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
});

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

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Thrown by a waitFor probe to stop waiting at once (the awaited thing can no longer happen). */
export class GiveUp extends Error {}

/**
 * Polls `probe` until it returns a value (not undefined); throws `what` with the last error, or
 * at once when the probe throws GiveUp.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = HEALTHY_TIMEOUT_MS,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (true) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof GiveUp) {
        throw new Error(`gave up waiting for ${what}: ${err.message}`, { cause: err });
      }
      last = describeError(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for ${what}${last === '' ? '' : `; last error: ${last}`}`);
    }
    await sleep(intervalMs);
  }
}

/** The `--initial-*` flags of one start; each defaults to the cluster's. */
export interface InitialFlags {
  name?: string;
  initialAdvertisePeerUrls?: string;
  initialCluster?: string;
  initialClusterState?: 'new' | 'existing';
  initialClusterToken?: string;
}

/** Where a member lives. */
interface MemberSpec {
  name: string;
  host: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
}

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One member: its addresses, its data dir, and the process currently running it (if any). */
export class ClusterMember {
  readonly name: string;
  readonly host: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  /** Learned from the member itself (Status) or from `member add`. */
  id: bigint | undefined;
  learner = false;
  /** Removed from the cluster by `member remove`. */
  removed = false;
  readonly #cluster: Cluster;
  #child: ChildProcess | undefined;
  #exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  #log = '';
  #starts = 0;
  #client: MemberClient | undefined;

  constructor(cluster: Cluster, spec: MemberSpec) {
    this.#cluster = cluster;
    this.name = spec.name;
    this.host = spec.host;
    this.clientPort = spec.clientPort;
    this.peerPort = spec.peerPort;
    this.dataDir = spec.dataDir;
  }

  get clientUrl(): string {
    return `http://${this.host}:${this.clientPort}`;
  }
  get peerUrl(): string {
    return `http://${this.host}:${this.peerPort}`;
  }
  /** host:port, as etcdctl --endpoints takes it. */
  get endpoint(): string {
    return `${this.host}:${this.clientPort}`;
  }
  /** The member's id as etcdctl prints it. */
  get hexId(): string {
    if (this.id === undefined) throw new Error(`${this.name}: id not known yet`);
    return this.id.toString(16);
  }
  /** A gRPC client of this member (one channel, reused across restarts). */
  get client(): MemberClient {
    this.#client ??= new MemberClient(this.endpoint);
    return this.#client;
  }

  /** Whether a process of this member is running. */
  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** The recipe's flags, literally, with `flags` overriding the `--initial-*` ones. */
  recipeArgs(flags: InitialFlags = {}): string[] {
    const c = this.#cluster;
    return [
      `--data-dir=${this.dataDir}`,
      '--name', flags.name ?? this.name,
      '--initial-advertise-peer-urls', flags.initialAdvertisePeerUrls ?? this.peerUrl,
      '--listen-peer-urls', this.peerUrl,
      '--advertise-client-urls', this.clientUrl,
      '--listen-client-urls', this.clientUrl,
      '--initial-cluster', flags.initialCluster ?? c.initialCluster,
      '--initial-cluster-state', flags.initialClusterState ?? 'new',
      '--initial-cluster-token', flags.initialClusterToken ?? c.token,
    ];
  }

  /**
   * Starts a process with the recipe's flags (the same on every restart unless `flags` says
   * otherwise) plus the cluster's extra args; does not wait for it to be healthy.
   */
  start(flags: InitialFlags = {}, extraArgs: readonly string[] = []): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const args = [...this.recipeArgs(flags), ...this.#cluster.extraArgs, ...extraArgs];
    const [cmd, prefix] =
      this.#cluster.binary === 'etcd'
        ? [ETCD_BIN, []]
        : [process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'concord.ts')]];
    this.#starts += 1;
    const binary = this.#cluster.binary;
    this.#log += `\n----- ${this.name} start #${this.#starts}: ${binary} ${args.join(' ')}\n`;
    const child = spawn(cmd, [...prefix, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    child.stdout!.on('data', (d: Buffer) => (this.#log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.#log += d.toString()));
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.#log += `\n----- ${this.name} exited: code ${code} signal ${signal}\n`;
        resolve({ code, signal });
      });
    });
  }

  /** Resolves when the current process exits (at once when none runs). */
  exited(): Promise<Exit> {
    return this.#exited;
  }

  /** Waits up to `timeoutMs` for the process to exit by itself; undefined when it did not. */
  async waitExit(timeoutMs: number): Promise<Exit | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), timeoutMs);
    });
    try {
      return await Promise.race([this.#exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** kill -9: a crash. */
  async kill9(): Promise<Exit> {
    if (this.running) this.#child!.kill('SIGKILL');
    return this.#exited;
  }

  /** SIGTERM, and SIGKILL if it has not exited after STOP_TIMEOUT_MS. */
  async stop(): Promise<Exit> {
    if (!this.running) return this.#exited;
    this.#child!.kill('SIGTERM');
    const exit = await this.waitExit(STOP_TIMEOUT_MS);
    if (exit !== undefined) return exit;
    this.#log += `\n----- ${this.name} did not exit ${STOP_TIMEOUT_MS} ms after SIGTERM: SIGKILL\n`;
    return this.kill9();
  }

  /** Removes the data dir (the member must not be running). */
  wipe(): void {
    if (this.running) throw new Error(`${this.name} is running`);
    rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true });
  }

  /** Everything every process of this member printed, with start/exit markers. */
  logs(): string {
    return this.#log;
  }

  /** Only the log of the current (latest) process. */
  currentLog(): string {
    const i = this.#log.lastIndexOf(`----- ${this.name} start #`);
    return i < 0 ? '' : this.#log.slice(i);
  }

  /** Whether /health answers `{"health":"true"}`. */
  async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.clientUrl}/health`, { signal: AbortSignal.timeout(3000) });
      const body = (await res.json()) as { health?: unknown };
      return res.status === 200 && body.health === 'true';
    } catch {
      return false;
    }
  }

  closeClient(): void {
    this.#client?.close();
    this.#client = undefined;
  }
}

/** Options of startCluster. */
export interface ClusterOptions {
  size: number;
  binary?: ClusterBinary;
  /** --initial-cluster-token; default `token-01` as in the recipe. */
  token?: string;
  /** Extra flags given to every member on every start. */
  extraArgs?: readonly string[];
  /** --snapshot-count for every member. */
  snapshotCount?: number;
  /** Indexes (0-based) of the members to start; default all. The others only get addresses. */
  startOnly?: readonly number[];
  /** Wait until the started members are healthy and agree on a leader (default true). */
  waitHealthy?: boolean;
}

/** A cluster under test. */
export class Cluster {
  readonly binary: ClusterBinary;
  readonly token: string;
  readonly extraArgs: readonly string[];
  readonly root: string;
  readonly members: ClusterMember[] = [];
  /** The `--initial-cluster` of the recipe (the initial members). */
  initialCluster = '';

  constructor(options: { binary: ClusterBinary; token: string; extraArgs: readonly string[] }) {
    this.binary = options.binary;
    this.token = options.token;
    this.extraArgs = options.extraArgs;
    this.root = mkdtempSync(join(tmpdir(), `cluster-${options.binary}-`));
    roots.add(this.root);
  }

  /** A new member on the next loopback address, with free ports and an empty data dir. */
  async newMember(): Promise<ClusterMember> {
    const k = this.members.length + 1;
    const host = `127.0.0.${10 + k}`;
    const name = `n${k}`;
    const dataDir = join(this.root, `${name}.etcd`);
    mkdirSync(dataDir, { recursive: true });
    const clientPort = await freePortOn(host);
    let peerPort = await freePortOn(host);
    while (peerPort === clientPort) peerPort = await freePortOn(host);
    const member = new ClusterMember(this, { name, host, clientPort, peerPort, dataDir });
    this.members.push(member);
    return member;
  }

  member(name: string): ClusterMember {
    const m = this.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  /** Members with a running process. */
  running(): ClusterMember[] {
    return this.members.filter((m) => m.running);
  }

  /** Running members that take writes and linearizable reads (not learners, not removed). */
  voters(): ClusterMember[] {
    return this.running().filter((m) => !m.learner && !m.removed);
  }

  /** `--endpoints` for etcdctl: host:port of `members` (default: the running voters). */
  endpoints(members: readonly ClusterMember[] = this.voters()): string {
    return members.map((m) => m.endpoint).join(',');
  }

  /** Waits until every one of `members` answers /health and learns its id. */
  async waitHealthy(members: readonly ClusterMember[] = this.voters()): Promise<void> {
    await Promise.all(
      members.map(async (m) => {
        await waitFor(`${m.name} to be healthy`, async () => {
          if (!m.running) throw new GiveUp(`${m.name} exited:\n${tail(m.currentLog(), 40)}`);
          return (await m.healthy()) ? true : undefined;
        });
        // NB: a client channel that met a refused connection before the member listened may
        // answer UNAVAILABLE for a while (grpc-js backs off): ask until it connects.
        m.id = await waitFor(`${m.name} to answer Status`, async () => {
          try {
            return (await m.client.status({ deadlineMs: 5000 })).header!.memberId;
          } catch {
            return undefined;
          }
        });
      }),
    );
  }

  /** The member that `members` (default: the running voters) all report as leader. */
  async leader(members: readonly ClusterMember[] = this.voters()): Promise<ClusterMember> {
    return waitFor('one leader that every running member agrees on', async () => {
      const statuses = await Promise.all(members.map((m) => m.client.status({ deadlineMs: 5000 })));
      for (const [i, s] of statuses.entries()) members[i]!.id ??= s.header!.memberId;
      const leaderId = statuses[0]!.leader;
      if (leaderId === 0n || statuses.some((s) => s.leader !== leaderId)) return undefined;
      return members.find((m) => m.id === leaderId);
    });
  }

  /** Running voters other than the leader. */
  async followers(): Promise<ClusterMember[]> {
    const leader = await this.leader();
    return this.voters().filter((m) => m !== leader);
  }

  /** Stops everything (kill -9: the data is thrown away), closes clients, removes the temp root. */
  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill9()));
    for (const m of this.members) m.closeClient();
    rmSync(this.root, { recursive: true, force: true });
    roots.delete(this.root);
  }

  /** The last lines of every member's log, for a failure report. */
  logReport(lines = 150): string {
    return this.members
      .map((m) => {
        const where = `${m.endpoint}, peer ${m.peerUrl}`;
        const title = `===== ${m.name} (${where}) last ${lines} lines =====`;
        return `${title}\n${tail(m.logs(), lines)}`;
      })
      .join('\n');
  }
}

/** The last `n` lines of `text`. */
export function tail(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}

/** Starts a cluster with the recipe and (by default) waits until it is healthy with a leader. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const cluster = new Cluster({
    binary: options.binary ?? clusterBinary,
    token: options.token ?? 'token-01',
    extraArgs: [
      ...(options.snapshotCount === undefined
        ? []
        : ['--snapshot-count', String(options.snapshotCount)]),
      ...(options.extraArgs ?? []),
    ],
  });
  try {
    for (let k = 0; k < options.size; k++) await cluster.newMember();
    cluster.initialCluster = cluster.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    const first = options.startOnly ?? cluster.members.map((_, i) => i);
    for (const i of first) cluster.members[i]!.start();
    if (options.waitHealthy !== false) {
      await cluster.waitHealthy();
      await cluster.leader();
    }
    return cluster;
  } catch (err) {
    process.stderr.write(`${cluster.logReport()}\n`);
    await cluster.close();
    throw err;
  }
}

/**
 * Runs `body` on a fresh cluster; prints every member's log when it fails; always stops every
 * process and removes the data dirs.
 */
export async function withCluster(
  options: ClusterOptions,
  body: (c: Cluster) => Promise<void>,
): Promise<void> {
  const cluster = await startCluster(options);
  try {
    await body(cluster);
  } catch (err) {
    process.stderr.write(`\n${cluster.logReport()}\n`);
    throw err;
  } finally {
    await cluster.close();
  }
}
