// Starts the servers the comparison measures: concord and real etcd, one member each, on
// 127.0.0.1 free ports, data on disk in a fresh temporary directory. Exposes the pid (for RSS and
// CPU readings) and the data dir (for its size); stop() ends the process and removes the data.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/integration/concord-process.ts';
import { ETCD_BIN } from '../../test/integration/etcd-process.ts';

const root = join(import.meta.dirname, '..', '..');
export { ETCD_BIN, freePort };

export type ServerKind = 'concord' | 'etcd';

/** A running server. */
export interface ServerProcess {
  kind: ServerKind;
  endpoint: string;
  pid: number;
  dataDir: string;
  /** The command that started it. */
  command: string;
  /** SIGTERM, wait for exit, remove the data dir. Idempotent. */
  stop(): Promise<void>;
}

/** Options of startServer. */
export interface StartServerOptions {
  /** concord only: write a V8 CPU profile into this directory when the process exits. */
  cpuProfileDir?: string;
}

/** Starts a one-member server and waits until /health answers 200. */
export async function startServer(kind: ServerKind, options: StartServerOptions = {}): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), `${kind}-bench-`));
  const [port, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const flags = [
    '--data-dir', dataDir,
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `default=${peer}`,
  ];
  const profile = options.cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir];
  const [cmd, args] =
    kind === 'etcd'
      ? [ETCD_BIN, flags]
      : [process.execPath, [...profile, '--import', 'tsx', join(root, 'src', 'cli', 'concord.ts'), ...flags]];
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  const keep = (d: Buffer): void => {
    logs = (logs + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const proc: ServerProcess = {
    kind,
    endpoint: `127.0.0.1:${port}`,
    pid: child.pid!,
    dataDir,
    command: `${kind === 'etcd' ? 'etcd' : 'node --import tsx src/cli/concord.ts'} ${flags.join(' ').replace(dataDir, '$DATA_DIR')}`,
    stop: () => (stopping ??= stopChild(child, exited).finally(() => rmSync(dataDir, { recursive: true, force: true }))),
  };
  try {
    await waitHealthy(url, child, () => logs);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function waitHealthy(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`bench: server exited with ${child.exitCode}:\n${logs()}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`bench: server at ${url} did not become healthy:\n${logs()}`);
}

/** Resident set size of a process, in KiB (VmRSS of /proc/PID/status). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`bench: no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** CPU seconds (user + system) a process has used so far (/proc/PID/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}
