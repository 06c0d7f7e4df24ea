// Starts a real etcd (Debian's etcd-server) for differential tests and side-by-side benchmarks:
// on 127.0.0.1, free ports, a temporary data dir; stop() ends it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './concord-process.ts';

/** Where Debian installs etcd. */
export const ETCD_BIN = '/usr/bin/etcd';
export const ETCDCTL_BIN = '/usr/bin/etcdctl';

/** A running etcd. */
export interface EtcdProcess {
  endpoint: string;
  dataDir: string;
  logs(): string;
  stop(): Promise<void>;
}

/** Starts a one-member etcd and waits until it answers /health. */
export async function startEtcd(options: { args?: string[] } = {}): Promise<EtcdProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'etcd-it-'));
  const port = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    ETCD_BIN,
    [
      '--data-dir', dataDir,
      '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `default=${peer}`,
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let logs = '';
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  child.stdout.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: EtcdProcess = {
    endpoint: `127.0.0.1:${port}`,
    dataDir,
    logs: () => logs,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}:\n${logs}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return proc;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.stop();
  throw new Error(`etcd did not become healthy in time:\n${logs}`);
}
