// What the side-by-side benchmarks (bench/compare.ts, bench/cluster.ts) share when they write
// BENCHMARKS.md: medians, number formatting, and the machine the figures were taken on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { ETCD_BIN } from './servers.ts';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A figure with three significant digits (thousands grouped). */
export function fmt(v: number): string {
  if (v >= 1000) return Math.round(v).toLocaleString('en-US');
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Markdown lines describing this machine and the versions measured. */
export function machine(): string[] {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const etcdVersion = execFileSync(ETCD_BIN, ['--version'], { encoding: 'utf8' }).split('\n')[0];
  const h2loadVersion = execFileSync('h2load', ['--version'], { encoding: 'utf8' }).trim();
  return [
    `- date: ${new Date().toISOString()}`,
    `- nproc: ${cpus().length}; CPU: ${model}; memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- kernel: ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}; Node ${process.version}; ${etcdVersion}; ${h2loadVersion}`,
  ];
}
