// The fault layer's Cluster (types.ts): real concord or etcd processes, one per network namespace
// (net/), started with etcd's static-bootstrap recipe, and the faults the harness injects into
// them (faults/). Every member listens on its own address with the standard ports:
//   client http://<address>:2379   peer http://<address>:2380   data <workDir>/<name>/data
//
// Without namespaces (net/placement.ts) members run on loopback addresses and the cluster offers
// no partition faults (nor etcd's torn WAL, see tearWalTail). Cluster operations (status, member
// add/remove) go through etcdctl, a client both servers must answer alike.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRng } from '../../src/util/rng.ts';
import type { TestNetwork } from './net/network.ts';
import { type Placement, placeMembers } from './net/placement.ts';
import { sweepStale } from './net/sweep.ts';
import { endpointStatus, memberAdd, memberList, memberRemove } from './faults/etcdctl.ts';
import { crashAtFailpoint, isFailpointName } from './faults/failpoint.ts';
import { MemberProcess } from './faults/member-process.ts';
import { tearWalTail, type TearResult, walTail, type WalTail } from './faults/wal-tear.ts';
import { canConnect, retry, sleep } from './faults/wait.ts';
import {
  FAULT_KINDS, type Cluster, type ClusterTarget, type FaultKind, type MemberHandle,
  type StartCluster,
} from './types.ts';

/** Where Debian installs etcd. */
export const ETCD_BIN = '/usr/bin/etcd';
const REPO_ROOT = join(import.meta.dirname, '..', '..');
const CONCORD_MAIN = join(REPO_ROOT, 'src', 'cli', 'concord.ts');
const CLIENT_PORT = 2379;
const PEER_PORT = 2380;
/** How long a started member may take to listen on its client URL. */
const LISTEN_TIMEOUT_MS = 60_000;
/** How long a new cluster may take to elect a leader. */
const LEADER_TIMEOUT_MS = 60_000;
/** How long member add/remove is retried (etcd refuses while the cluster is unhealthy). */
const RECONFIG_TIMEOUT_MS = 30_000;
/** SIGTERM before SIGKILL at teardown. */
const STOP_GRACE_MS = 3_000;
/** How long an armed concord member may run before its failpoint fires (else it is killed). */
const FAILPOINT_TIMEOUT_MS = 15_000;
/** How long an isolated etcd member may take to write to its WAL (it campaigns within seconds). */
const WAL_GROWTH_TIMEOUT_MS = 10_000;

const PARTITION_FAULTS: ReadonlySet<FaultKind> = new Set([
  'partition-majority', 'partition-leader', 'partition-bridge', 'partition-one-way',
]);

/** A member process that exited (or never listened) while the fault layer waited for it. */
export class MemberStartError extends Error {
  constructor(readonly member: string, detail: string, readonly logTail: string) {
    super(`chaos: member ${member} did not start: ${detail}\n${logTail}`);
  }
}

interface Member {
  handle: MemberHandle;
  process: MemberProcess;
  address: string;
  dataDir: string;
  removed: boolean;
}

/** Starts `target`'s cluster; resolves once every member listens and a leader is elected. */
export const startCluster: StartCluster = async (target) => {
  if (!Number.isInteger(target.members) || target.members < 1) {
    throw new Error(`chaos: a cluster needs at least one member, not ${target.members}`);
  }
  sweepStale();
  const names = Array.from({ length: target.members }, (_, i) => `m${i + 1}`);
  const place = await placeMembers(names, {
    seed: target.seed, ...(target.log === undefined ? {} : { log: target.log }),
  });
  const cluster = new ProcessCluster(target, names, place);
  try {
    await cluster.start();
  } catch (error) {
    await cluster.tearDown();
    throw error;
  }
  return cluster;
};

class ProcessCluster implements Cluster {
  readonly target: ClusterTarget;
  readonly members: MemberHandle[];
  readonly faults: ReadonlySet<FaultKind>;
  readonly #byName = new Map<string, Member>();
  readonly #place: Placement;
  readonly #rng: SeededRng;
  readonly #log: (line: string) => void;
  #torndown = false;

  constructor(target: ClusterTarget, names: string[], place: Placement) {
    this.target = target;
    this.#place = place;
    this.#rng = new SeededRng(target.seed);
    this.#log = target.log ?? (() => undefined);
    // Without namespaces: no partitions, and etcd's torn WAL needs an isolation (see tearWalTail).
    const needsNetwork = (kind: FaultKind): boolean =>
      PARTITION_FAULTS.has(kind) || (kind === 'torn-wal' && target.kind === 'etcd');
    this.faults = new Set(
      FAULT_KINDS.filter((kind) => place.network !== undefined || !needsNetwork(kind)),
    );
    const peers = names.map((n) => `${n}=http://${place.address(n)}:${PEER_PORT}`).join(',');
    for (const name of names) {
      const address = place.address(name);
      const dir = join(target.workDir, name);
      mkdirSync(dir, { recursive: true });
      const dataDir = join(dir, 'data');
      const proc = new MemberProcess(name, {
        ...this.#command(name, address, dataDir, { initialCluster: peers, state: 'new' }),
        env: memberEnv(target.env),
        cwd: REPO_ROOT,
        enter: place.enter(name),
        logFile: join(dir, 'member.log'),
      });
      const handle: MemberHandle = {
        name,
        clientUrl: `http://${address}:${CLIENT_PORT}`,
        peerUrl: `http://${address}:${PEER_PORT}`,
        pid: () => proc.pid(),
      };
      this.#byName.set(name, { handle, process: proc, address, dataDir, removed: false });
    }
    this.members = [...this.#byName.values()].map((m) => m.handle);
  }

  /** The command line of a member: etcd's static bootstrap flags, then the target's own. */
  #command(
    name: string, address: string, dataDir: string,
    bootstrap: { initialCluster: string; state: 'new' | 'existing' },
  ): { command: string; args: string[] } {
    const client = `http://${address}:${CLIENT_PORT}`;
    const peer = `http://${address}:${PEER_PORT}`;
    const flags = [
      '--name', name, '--data-dir', dataDir,
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', bootstrap.initialCluster,
      '--initial-cluster-state', bootstrap.state,
      '--initial-cluster-token', `chaos-${this.target.seed}`,
      ...(this.target.args ?? []),
    ];
    return this.target.kind === 'etcd'
      ? { command: ETCD_BIN, args: flags }
      : { command: process.execPath, args: ['--import', 'tsx', CONCORD_MAIN, ...flags] };
  }

  async start(): Promise<void> {
    for (const m of this.#byName.values()) m.process.start();
    await Promise.all([...this.#byName.values()].map((m) => this.#waitListening(m)));
    const deadline = Date.now() + LEADER_TIMEOUT_MS;
    for (;;) {
      const leader = await this.leader();
      if (leader !== undefined) {
        const { kind } = this.target;
        this.#log(`cluster: ${kind} ${this.members.length} members up, leader ${leader}`);
        return;
      }
      if (Date.now() > deadline) throw new Error('chaos: a new cluster elected no leader in time');
      await sleep(200);
    }
  }

  clientUrls(): string[] {
    return this.members.map((m) => `${this.#member(m.name).address}:${CLIENT_PORT}`);
  }

  async leader(): Promise<string | undefined> {
    const asked = [...this.#byName.values()].filter(
      (m) => !m.removed && m.process.running() && !m.process.paused(),
    );
    const statuses = await Promise.all(
      asked.map((m) =>
        endpointStatus(`${m.address}:${CLIENT_PORT}`, { timeoutMs: 1_000 }).catch(() => undefined),
      ),
    );
    let best: { name: string; term: number } | undefined;
    statuses.forEach((status, i) => {
      if (status === undefined || status.leader !== status.memberId) return;
      if (best === undefined || status.raftTerm > best.term) {
        best = { name: asked[i]!.handle.name, term: status.raftTerm };
      }
    });
    return best?.name;
  }

  async kill(name: string): Promise<void> {
    const status = await this.#member(name).process.kill();
    this.#log(`fault: kill -9 ${name}: ${describeExit(status)}`);
  }

  async restart(name: string): Promise<void> {
    const m = this.#member(name);
    if (m.removed) throw new Error(`chaos: cannot restart ${name}: removed (use addMember)`);
    if (m.process.running()) return;
    m.process.start();
    await this.#waitListening(m);
    this.#log(`fault: restart ${name} (pid ${m.process.pid() ?? '-'})`);
  }

  async pause(name: string): Promise<void> {
    await this.#member(name).process.pause();
    this.#log(`fault: SIGSTOP ${name}`);
  }

  async resume(name: string): Promise<void> {
    await this.#member(name).process.resume();
    this.#log(`fault: SIGCONT ${name}`);
  }

  async partition(groups: string[][]): Promise<void> {
    await this.#network('partition').partition(groups);
  }

  async oneWay(from: string, to: string): Promise<void> {
    await this.#network('oneWay').oneWay(from, to);
  }

  async heal(): Promise<void> {
    await this.#place.network?.heal();
  }

  async removeMember(name: string): Promise<void> {
    const m = this.#member(name);
    if (m.removed) throw new Error(`chaos: ${name} is already removed`);
    const endpoints = this.#endpointsBut(name);
    await retry(`remove ${name}`, RECONFIG_TIMEOUT_MS, async () => {
      const listed = await memberList(endpoints);
      const entry = listed.find((e) => e.peerUrls.includes(m.handle.peerUrl));
      // Gone already: an earlier attempt was applied though its answer was lost.
      if (entry !== undefined) await memberRemove(endpoints, entry.id);
    });
    m.removed = true;
    const status = await m.process.stop(STOP_GRACE_MS);
    this.#log(`fault: member remove ${name}, process ${describeExit(status)}`);
  }

  async addMember(name: string): Promise<void> {
    const m = this.#member(name);
    if (!m.removed) throw new Error(`chaos: cannot add ${name}: it is a member`);
    const endpoints = this.#endpointsBut(name);
    const initialCluster = await retry(`add ${name}`, RECONFIG_TIMEOUT_MS, async () => {
      const listed = await memberList(endpoints);
      if (listed.some((e) => e.peerUrls.includes(m.handle.peerUrl))) {
        // Added already (a lost answer): the cluster as etcdctl would print it, naming the
        // members not started yet (no name in the list) by their peer URL.
        const nameOf = (urls: string[]): string | undefined =>
          this.members.find((h) => urls.includes(h.peerUrl))?.name;
        return listed
          .map((e) => `${nameOf(e.peerUrls) ?? e.name}=${e.peerUrls.join(',')}`)
          .join(',');
      }
      return memberAdd(endpoints, name, m.handle.peerUrl);
    });
    rmSync(m.dataDir, { recursive: true, force: true });
    const bootstrap = { initialCluster, state: 'existing' } as const;
    const { args } = this.#command(name, m.address, m.dataDir, bootstrap);
    m.removed = false;
    m.process.start({ args });
    await this.#waitListening(m);
    this.#log(`fault: member add ${name} (fresh data dir, --initial-cluster ${initialCluster})`);
  }

  async crashAtFailpoint(name: string, failpoint: string): Promise<void> {
    const m = this.#member(name);
    if (!isFailpointName(failpoint)) throw new Error(`chaos: no failpoint "${failpoint}"`);
    if (this.target.kind === 'etcd') {
      // Debian's etcd has no failpoints: a kill -9 at a random moment stands in.
      const delayMs = this.#rng.int(2_000);
      await sleep(delayMs);
      await m.process.kill();
      this.#log(`fault: ${failpoint} (etcd: kill -9 after ${delayMs} ms instead)`);
    } else {
      const outcome = await crashAtFailpoint(m.process, failpoint, {
        timeoutMs: FAILPOINT_TIMEOUT_MS,
      });
      const what = outcome.fired
        ? 'crashed there'
        : `did not fire in time, ${describeExit(outcome.status)}`;
      this.#log(`fault: failpoint ${failpoint} on ${name}: ${what}`);
    }
    await this.restart(name);
  }

  /**
   * kill -9, tear the last WAL record, restart. Only a record the member never acted on may be
   * torn (see faults/wal-tear.ts), so the member first gets to a point where it can acknowledge
   * nothing: concord crashes at `raftAfterSave` (its save synced, nothing yet sent that depends
   * on it) and loses the end of that save; etcd, which has no failpoints, is cut off from its
   * peers until it writes to its WAL (a campaign's hard state, an entry it cannot replicate),
   * then killed, and loses the end of that write.
   */
  async tearWalTail(name: string): Promise<void> {
    const m = this.#member(name);
    let result: TearResult;
    if (this.target.kind === 'concord') {
      await m.process.kill();
      const since = walTail(m.dataDir);
      const outcome = await crashAtFailpoint(m.process, 'raftAfterSave', {
        timeoutMs: FAILPOINT_TIMEOUT_MS,
      });
      result = outcome.fired
        ? tearWalTail(m.dataDir, { since })
        : { torn: false, reason: 'raftAfterSave did not fire in time' };
    } else {
      result = await this.#tearWhileIsolated(m);
    }
    this.#log(
      result.torn
        ? `fault: torn WAL of ${name}: ${result.segment} cut from ${result.dataBytes} ` +
            `to ${result.keptBytes} bytes`
        : `fault: torn WAL of ${name} skipped: ${result.reason}`,
    );
    await this.restart(name);
  }

  /** Isolates `m`, waits until its WAL grows, kills it and tears what it wrote meanwhile. */
  async #tearWhileIsolated(m: Member): Promise<TearResult> {
    const network = this.#network('tearWalTail');
    if (!m.process.running() || m.process.paused()) {
      await m.process.kill();
      return { torn: false, reason: 'not running: none of its writes is known unacknowledged' };
    }
    const name = m.handle.name;
    const others = this.members.map((h) => h.name).filter((n) => n !== name);
    const added = await network.block(others.flatMap((o) => [[name, o], [o, name]] as const));
    try {
      const since = walTail(m.dataDir);
      const deadline = Date.now() + WAL_GROWTH_TIMEOUT_MS;
      while (Date.now() < deadline && sameTail(walTail(m.dataDir), since)) await sleep(50);
      await m.process.kill();
      return tearWalTail(m.dataDir, { since });
    } finally {
      await network.unblock(added);
    }
  }

  async recover(): Promise<void> {
    await this.heal();
    const members = [...this.#byName.values()];
    for (const m of members) if (m.process.paused()) await m.process.resume();
    const down = members.filter((m) => !m.removed && !m.process.running());
    await Promise.all(down.map((m) => this.restart(m.handle.name)));
    for (const m of members) if (m.removed) await this.addMember(m.handle.name);
  }

  logs(name: string): string {
    return this.#member(name).process.logs();
  }

  async tearDown(): Promise<void> {
    if (this.#torndown) return;
    this.#torndown = true;
    await Promise.all([...this.#byName.values()].map((m) => m.process.stop(STOP_GRACE_MS)));
    await this.#place.release();
  }

  #member(name: string): Member {
    const m = this.#byName.get(name);
    if (m === undefined) throw new Error(`chaos: no member "${name}"`);
    return m;
  }

  #network(operation: string): TestNetwork {
    const network = this.#place.network;
    if (network === undefined) {
      throw new Error(`chaos: ${operation} needs network namespaces, which this cluster lacks`);
    }
    return network;
  }

  /** Client endpoints of every member but `name` that could answer now. */
  #endpointsBut(name: string): string[] {
    const live = [...this.#byName.values()].filter(
      (m) => m.handle.name !== name && !m.removed && m.process.running() && !m.process.paused(),
    );
    if (live.length === 0) throw new Error(`chaos: no live member to reconfigure ${name} through`);
    return live.map((m) => `${m.address}:${CLIENT_PORT}`);
  }

  /** Resolves once `m` accepts TCP connections on its client port; throws if it exits first. */
  async #waitListening(m: Member): Promise<void> {
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!m.process.running()) {
        const status = await m.process.waitForExit(0);
        throw new MemberStartError(m.handle.name, describeExit(status), tail(m.process.lifeLogs()));
      }
      if (await canConnect(m.address, CLIENT_PORT)) return;
      await sleep(100);
    }
    await m.process.kill();
    throw new MemberStartError(m.handle.name, 'not listening in time', tail(m.process.lifeLogs()));
  }
}

/**
 * A member's environment: this process's, without settings that would change what a member does
 * (ETCD_* flags, armed failpoints, node's test-runner and option variables), plus the target's.
 */
function memberEnv(extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    const dropped = /^(ETCD_|ETCDCTL_|CONCORD_)|^NODE_(TEST_CONTEXT|OPTIONS)$/.test(key);
    if (value !== undefined && !dropped) env[key] = value;
  }
  return { ...env, ...extra };
}

function sameTail(a: WalTail | undefined, b: WalTail | undefined): boolean {
  return a?.segment === b?.segment && a?.dataBytes === b?.dataBytes;
}

function describeExit(status: { code: number | null; signal: string | null } | undefined): string {
  if (status === undefined) return 'not running';
  return status.signal !== null ? `exited by ${status.signal}` : `exited with code ${status.code}`;
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

