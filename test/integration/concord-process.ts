// Starts a real `concord` process for integration tests: on 127.0.0.1, on a free port, with its
// own temporary data dir; stop() kills it (and kill9() simulates a crash). Every process a test
// starts is stopped by the test.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A running concord. */
export interface ConcordProcess {
  /** host:port of the client URL. */
  endpoint: string;
  dataDir: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  logs(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill9(): Promise<void>;
  /** Removes the data dir (after stop). */
  cleanup(): void;
}

/** Options of startConcord. */
export interface StartOptions {
  /** Reuse a data dir (restart after a crash). */
  dataDir?: string;
  port?: number;
  args?: string[];
  env?: Record<string, string>;
  /** How long to wait for /health (ms). */
  readyTimeoutMs?: number;
}

/** Starts concord and waits until it answers /health. */
export async function startConcord(options: StartOptions = {}): Promise<ConcordProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'concord-it-'));
  const port = options.port ?? (await freePort());
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--import', 'tsx', join(root, 'src', 'cli', 'concord.ts'),
    '--data-dir', dataDir,
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `default=${peer}`,
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc: ConcordProcess = {
    endpoint: `127.0.0.1:${port}`,
    dataDir,
    child,
    logs: () => logs,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`concord exited with ${child.exitCode} before it was ready:\n${logs}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return proc;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.kill9();
  throw new Error(`concord did not become healthy in time:\n${logs}`);
}

/** Fails the test run when a required tool is missing in CI; skips locally. */
export function requireTool(path: string): { skip: string | false } {
  if (existsSync(path)) return { skip: false };
  if (process.env['CI'] === 'true') throw new Error(`${path} is required in CI (installed by .ci/run)`);
  return { skip: `${path} is not installed` };
}
