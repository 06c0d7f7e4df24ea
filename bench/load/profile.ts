// Summarises a V8 CPU profile (`node --cpu-prof`): self time per function and per file, the view
// that says where the process's own CPU went.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** One row of the summary. */
export interface SelfTime {
  name: string;
  /** Self time in ms. */
  ms: number;
  /** Share of all samples, including idle. */
  share: number;
}

/** Self-time summary of one profile. */
export interface ProfileSummary {
  totalMs: number;
  /** (idle): the main thread waited for I/O. */
  idleShare: number;
  gcShare: number;
  functions: SelfTime[];
  files: SelfTime[];
}

const root = new URL('../../', import.meta.url).href;

function shortUrl(url: string): string {
  if (url === '') return '';
  if (url.startsWith(root)) return url.slice(root.length);
  const nm = url.lastIndexOf('node_modules/');
  return nm >= 0 ? url.slice(nm) : url;
}

/** A time window in µs of CLOCK_MONOTONIC (V8's profile clock; `process.hrtime` reads the same). */
export interface ProfileWindow {
  startUs: number;
  endUs: number;
}

/** Now, in the clock of CPU profiles (µs, CLOCK_MONOTONIC). */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Reads a .cpuprofile and sums self time by function and by file; with a window, only samples
 * taken inside it count (the load, not the process's start-up and module loading).
 */
export function summarizeProfile(path: string, options: { top?: number; window?: ProfileWindow } = {}): ProfileSummary {
  const top = options.top ?? 20;
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const from = options.window?.startUs ?? -Infinity;
  const to = options.window?.endUs ?? Infinity;
  let t = profile.startTime;
  let totalMs = 0;
  // Each sample's time is the delta that follows it.
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    if (t < from || t > to) continue;
    const dt = (deltas[i + 1] ?? 0) / 1000;
    totalMs += dt;
    selfMs.set(samples[i]!, (selfMs.get(samples[i]!) ?? 0) + dt);
  }
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') idle += ms;
    if (functionName === '(garbage collector)') gc += ms;
    const file = shortUrl(url);
    // NB: code loaded through tsx reports line 0 for every function; the file alone says enough.
    const where = file === '' ? '' : lineNumber > 0 ? ` ${file}:${lineNumber + 1}` : ` ${file}`;
    const fn = `${functionName || '(anonymous)'}${where}`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
    const fileKey = file === '' ? functionName : file;
    files.set(fileKey, (files.get(fileKey) ?? 0) + ms);
  }
  const rows = (m: Map<string, number>): SelfTime[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: ms / totalMs }));
  return { totalMs, idleShare: idle / totalMs, gcShare: gc / totalMs, functions: rows(functions), files: rows(files) };
}
