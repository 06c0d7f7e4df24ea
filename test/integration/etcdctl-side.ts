// Drives the real etcdctl (API v3) against one server and normalizes what it prints, so that the
// same command run against concord and against a real etcd compares equal: ids, terms, raft
// indexes, sizes, hashes and timings become placeholders; everything else must match exactly.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { ETCDCTL_BIN } from './etcd-process.ts';

/** What one etcdctl run printed. */
export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The last `Error: ...` line of stderr ('' when there is none). */
  error: string;
}

/** Generous bound for one etcdctl run (a failure bound, not a timed assertion). */
const CTL_TIMEOUT_MS = 30_000;

/** Runs etcdctl with `args`, writing `input` to its stdin. */
export function etcdctl(endpoint: string, args: readonly string[], input = ''): Promise<CtlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      ETCDCTL_BIN,
      ['--endpoints', endpoint, ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: CTL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        if (err !== null && err.killed) {
          reject(new Error(`etcdctl ${args.join(' ')} timed out:\n${stderr}`));
          return;
        }
        const errors = stderr.split('\n').filter((l) => l.startsWith('Error:'));
        resolve({ code, stdout, stderr, error: errors[errors.length - 1] ?? '' });
      },
    );
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input);
  });
}

/** A background etcdctl (watch): its output so far, and a way to end it. */
export interface CtlProcess {
  output(): string;
  /** Resolves once `done(output)` holds (rejects after `timeoutMs`). */
  waitFor(done: (output: string) => boolean, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Starts etcdctl in the background (for `watch`). */
export function etcdctlBackground(endpoint: string, args: readonly string[]): CtlProcess {
  const child: ChildProcess = spawn(ETCDCTL_BIN, ['--endpoints', endpoint, ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    output: () => out,
    waitFor: async (done, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!done(out)) {
        if (Date.now() > deadline) throw new Error(`etcdctl ${args.join(' ')}: gave up waiting; output:\n${out}\nstderr:\n${err}`);
        if (child.exitCode !== null) throw new Error(`etcdctl ${args.join(' ')} exited with ${child.exitCode}:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return out;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Fields whose values legitimately differ between two servers (ids, terms, sizes, timings). */
const VOLATILE_JSON_FIELDS = [
  'cluster_id', 'member_id', 'raft_term', 'leader', 'memberID', 'raftIndex', 'raftTerm',
  'raftAppliedIndex', 'dbSize', 'dbSizeInUse', 'hash',
];

/** One server as etcdctl sees it, with what makes its output differ from another server's. */
export class CtlSide {
  readonly name: string;
  readonly endpoint: string;
  /** Literal strings to replace in output: this server's ids and URLs → placeholders. */
  readonly #subs: Array<[string, string]> = [];
  readonly #leases = new Map<string, string>();

  constructor(name: string, endpoint: string) {
    this.name = name;
    this.endpoint = endpoint;
    this.#subs.push([endpoint, '<endpoint>']);
  }

  /** Learns the member id, cluster id and URLs to hide (call once the server is up). */
  async learnIds(): Promise<void> {
    const status = await this.ctl(['endpoint', 'status', '-w', 'json']);
    const memberId = /"member_id":(\d+)/.exec(status.stdout)?.[1];
    const clusterId = /"cluster_id":(\d+)/.exec(status.stdout)?.[1];
    if (memberId === undefined || clusterId === undefined) throw new Error(`${this.name}: no ids in ${status.stdout}${status.stderr}`);
    this.#subs.push([memberId, '<member>'], [clusterId, '<cluster>'], [BigInt(memberId).toString(16), '<member>']);
    const list = await this.ctl(['member', 'list']);
    const peerUrl = list.stdout.split(', ')[3];
    if (peerUrl !== undefined) this.#subs.push([peerUrl, '<peer-url>']);
  }

  /** Runs etcdctl against this server. */
  ctl(args: readonly string[], input = ''): Promise<CtlResult> {
    return etcdctl(this.endpoint, args, input);
  }

  /** Grants a lease and remembers its id under `label`; returns the grant's output. */
  async grantLease(label: string, ttlSeconds: number, json = false): Promise<CtlResult> {
    const res = await this.ctl(['lease', 'grant', String(ttlSeconds), ...(json ? ['-w', 'json'] : [])]);
    // etcdctl prints lease ids as %016x.
    const hex = json ? BigInt(/"ID":(\d+)/.exec(res.stdout)?.[1] ?? '0').toString(16).padStart(16, '0') : /^lease ([0-9a-f]+) granted/.exec(res.stdout)?.[1];
    if (hex === undefined || hex === '0') throw new Error(`${this.name}: lease grant printed ${res.stdout}${res.stderr}`);
    this.#leases.set(label, hex);
    this.#subs.push([BigInt(`0x${hex}`).toString(), `<lease ${label}>`], [hex, `<lease ${label}>`]);
    return res;
  }

  /** The hex id of the lease granted under `label`. */
  lease(label: string): string {
    const hex = this.#leases.get(label);
    if (hex === undefined) throw new Error(`no lease "${label}" on ${this.name}`);
    return hex;
  }

  /** Output with this server's ids, URLs and volatile numbers replaced by placeholders. */
  norm(text: string): string {
    let out = text;
    // Longest first: a decimal id must not be cut by a shorter one it contains.
    for (const [from, to] of [...this.#subs].sort((a, b) => b[0].length - a[0].length)) out = out.split(from).join(to);
    for (const f of VOLATILE_JSON_FIELDS) out = out.replace(new RegExp(`"${f}":"?[0-9<][^,}\\]]*`, 'g'), `"${f}":<${f}>`);
    return out.replace(/"took":"[^"]*"/g, '"took":<took>').replace(/took = \S+/g, 'took = <took>');
  }

  /** A result as compared: exit code, normalized stdout, normalized last error line. */
  view(res: CtlResult): { code: number; stdout: string; error: string } {
    return { code: res.code, stdout: this.norm(res.stdout), error: this.norm(res.error) };
  }
}
