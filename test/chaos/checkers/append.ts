// The append workload's checker. Each key holds a list; a transaction reads the lists, then
// appends a unique value to one or more of them, guarded by their mod revisions. With the final
// lists read after the run, a correct history satisfies:
//   - no value appears twice in a list, and every list read is a prefix of the final list (so
//     all reads agree with one order of appends per key);
//   - every acknowledged append is in the final list, no failed append is, and an append to
//     several keys is in all of them or in none (atomic);
//   - reads are not stale: a read invoked after another read or an append completed sees at
//     least that much of the list;
//   - reads of several keys in one transaction are snapshots: no read sees half of a multi-key
//     append, and all reads are ordered consistently across keys (one total order).
import { describeEntry, type HistoryEntry } from '../history.ts';
import { type Verdict, type Violation, verdictOf } from './verdict.ts';

/** One key's part of an append transaction: the list it read and the value it appends. */
export interface AppendPart {
  key: string;
  value: string;
  /** The list the guard expects (read just before, at `modRevision`). */
  base: string[];
  modRevision: number;
}

/** An append-workload operation. */
export type AppendInput = { op: 'read'; keys: string[] } | { op: 'append'; parts: AppendPart[] };

/** A read's lists (absent key = empty list). */
export interface AppendOutput {
  lists?: Record<string, string[]>;
  succeeded?: boolean;
}

/** An append history entry. */
export type AppendEntry = HistoryEntry<AppendInput, AppendOutput>;

/** Checks an append history against the final lists (key → list). */
export function checkAppend(
  entries: readonly AppendEntry[],
  finals: Record<string, string[]>,
): Verdict {
  const violations: Violation[] = [];
  const positions = finalPositions(finals, violations);
  const reads = entries.filter((e) => e.input.op === 'read' && e.outcome === 'ok' && e.output?.lists);
  const appends = entries.filter((e) => e.input.op === 'append');
  checkReadsArePrefixes(reads, finals, violations);
  checkAppendsAgainstFinal(appends, finals, positions, violations);
  checkRealTime(reads, appends, violations);
  checkSnapshots(reads, appends, positions, violations);
  const okAppends = appends.filter((e) => e.outcome === 'ok').length;
  const keys = Object.keys(finals).length;
  return verdictOf(
    'append',
    `${reads.length} reads and ${okAppends} acknowledged appends on ${keys} keys agree with the final lists`,
    violations,
  );
}

function finalPositions(
  finals: Record<string, string[]>,
  violations: Violation[],
): Map<string, Map<string, number>> {
  const positions = new Map<string, Map<string, number>>();
  for (const [key, list] of Object.entries(finals)) {
    const at = new Map<string, number>();
    list.forEach((value, i) => {
      if (at.has(value)) {
        violations.push({
          kind: 'duplicate',
          message: `value ${value} appears twice in the final list of ${key} (at ${at.get(value)} and ${i})`,
          window: [`final ${key} = [${list.join(' ')}]`],
        });
      } else {
        at.set(value, i);
      }
    });
    positions.set(key, at);
  }
  return positions;
}

/** Where `list` leaves `final`: `at 6: read 4.13, final 5.9`. */
function divergence(list: readonly string[], final: readonly string[]): string {
  const at = list.findIndex((v, i) => final[i] !== v);
  if (at < 0) return `the read has ${list.length} values, the final list only ${final.length}`;
  return `at position ${at} the read has ${list[at]}, the final list ${final[at] ?? 'nothing'}`;
}

function isPrefix(list: readonly string[], of: readonly string[]): boolean {
  return list.length <= of.length && list.every((v, i) => of[i] === v);
}

function checkReadsArePrefixes(
  reads: AppendEntry[],
  finals: Record<string, string[]>,
  violations: Violation[],
): void {
  for (const read of reads) {
    for (const [key, list] of Object.entries(read.output!.lists!)) {
      const final = finals[key] ?? [];
      if (isPrefix(list, final)) continue;
      violations.push({
        kind: 'not-prefix',
        message: `a read of ${key} is not a prefix of its final list: ${divergence(list, final)}`,
        window: [describeEntry(read), `final ${key} = [${final.join(' ')}]`],
        fromMs: read.invokeMs,
        toMs: read.completeMs,
      });
    }
  }
}

function checkAppendsAgainstFinal(
  appends: AppendEntry[],
  finals: Record<string, string[]>,
  positions: Map<string, Map<string, number>>,
  violations: Violation[],
): void {
  for (const a of appends) {
    if (a.input.op !== 'append') continue;
    const present = a.input.parts.map((p) => positions.get(p.key)?.has(p.value) === true);
    const line = describeEntry(a);
    const span = { fromMs: a.invokeMs, toMs: a.completeMs === Infinity ? a.invokeMs : a.completeMs };
    a.input.parts.forEach((part, i) => {
      const final = finals[part.key] ?? [];
      if (a.outcome === 'ok' && !present[i]) {
        violations.push({
          kind: 'lost-append',
          message: `acknowledged append of ${part.value} to ${part.key} is missing from the final list`,
          window: [line, `final ${part.key} = [${final.join(' ')}]`],
          ...span,
        });
      } else if (a.outcome === 'ok' && !isPrefix([...part.base, part.value], final)) {
        violations.push({
          kind: 'not-prefix',
          message: `acknowledged append of ${part.value} to ${part.key} wrote a list that is not a ` +
            `prefix of its final list: ${divergence([...part.base, part.value], final)}`,
          window: [line, `final ${part.key} = [${final.join(' ')}]`],
          ...span,
        });
      } else if (a.outcome === 'failed' && present[i]) {
        violations.push({
          kind: 'failed-append-applied',
          message: `append of ${part.value} to ${part.key} failed, yet it is in the final list`,
          window: [line, `final ${part.key} = [${final.join(' ')}]`],
          ...span,
        });
      }
    });
    if (present.some(Boolean) && !present.every(Boolean)) {
      violations.push({
        kind: 'not-atomic',
        message: 'a multi-key append is in some final lists but not in others',
        window: [line, ...a.input.parts.map((p) => `final ${p.key} = [${(finals[p.key] ?? []).join(' ')}]`)],
        ...span,
      });
    }
  }
}

/** What an operation shows of a key when it completes: a read's list, an append's result. */
interface Observation {
  entry: AppendEntry;
  key: string;
  length: number;
}

function observations(reads: AppendEntry[], appends: AppendEntry[]): Observation[] {
  const seen: Observation[] = [];
  for (const r of reads) {
    for (const [key, list] of Object.entries(r.output!.lists!)) seen.push({ entry: r, key, length: list.length });
  }
  for (const a of appends) {
    if (a.outcome !== 'ok' || a.input.op !== 'append') continue;
    for (const p of a.input.parts) seen.push({ entry: a, key: p.key, length: p.base.length + 1 });
  }
  return seen;
}

/** A read invoked after an observation completed must see at least as long a list. */
function checkRealTime(
  reads: AppendEntry[],
  appends: AppendEntry[],
  violations: Violation[],
): void {
  const byComplete = observations(reads, appends).sort((a, b) => a.entry.completeMs - b.entry.completeMs);
  const byInvoke = [...reads].sort((a, b) => a.invokeMs - b.invokeMs);
  const longest = new Map<string, Observation>();
  let next = 0;
  for (const read of byInvoke) {
    while (next < byComplete.length && byComplete[next]!.entry.completeMs < read.invokeMs) {
      const o = byComplete[next++]!;
      const best = longest.get(o.key);
      if (best === undefined || o.length > best.length) longest.set(o.key, o);
    }
    for (const [key, list] of Object.entries(read.output!.lists!)) {
      const best = longest.get(key);
      if (best === undefined || list.length >= best.length) continue;
      violations.push({
        kind: 'stale-read',
        message: `a read of ${key} saw ${list.length} values after an operation that completed ` +
          `earlier had seen ${best.length}`,
        window: [describeEntry(best.entry), describeEntry(read)],
        fromMs: best.entry.invokeMs,
        toMs: read.completeMs,
      });
    }
  }
}

/** Multi-key reads: no fractured multi-key append, and all reads form one chain. */
function checkSnapshots(
  reads: AppendEntry[],
  appends: AppendEntry[],
  positions: Map<string, Map<string, number>>,
  violations: Violation[],
): void {
  // Multi-key appends that are (or may be) applied, by key: a read is compared only with those
  // touching its keys.
  const multiByKey = new Map<string, AppendEntry[]>();
  for (const a of appends) {
    if (a.input.op !== 'append' || a.input.parts.length < 2 || a.outcome === 'failed') continue;
    for (const p of a.input.parts) {
      let list = multiByKey.get(p.key);
      if (list === undefined) multiByKey.set(p.key, (list = []));
      list.push(a);
    }
  }
  for (const read of reads) {
    const lists = read.output!.lists!;
    const candidates = new Set(Object.keys(lists).flatMap((k) => multiByKey.get(k) ?? []));
    for (const a of candidates) {
      if (a.input.op !== 'append') continue;
      const seen = a.input.parts
        .filter((p) => lists[p.key] !== undefined && positions.get(p.key)?.has(p.value) === true)
        .map((p) => positions.get(p.key)!.get(p.value)! < lists[p.key]!.length);
      if (seen.some(Boolean) && !seen.every(Boolean)) {
        violations.push({
          kind: 'fractured-read',
          message: 'a read sees part of a multi-key append but not the rest',
          window: [describeEntry(a), describeEntry(read)],
          fromMs: Math.min(a.invokeMs, read.invokeMs),
          toMs: read.completeMs,
        });
      }
    }
  }
  // Snapshots of one serial history are totally ordered by inclusion: among reads of the same
  // keys, sorted by total length, each must include the one before it.
  const groups = new Map<string, AppendEntry[]>();
  for (const r of reads) {
    const id = Object.keys(r.output!.lists!).sort().join('\n');
    let group = groups.get(id);
    if (group === undefined) groups.set(id, (group = []));
    group.push(r);
  }
  for (const [id, group] of groups) checkChain(id.split('\n'), group, violations);
}

function checkChain(keys: string[], reads: AppendEntry[], violations: Violation[]): void {
  const total = (r: AppendEntry): number => keys.reduce((n, k) => n + r.output!.lists![k]!.length, 0);
  const sized = reads.map((r) => ({ r, total: total(r) })).sort((a, b) => a.total - b.total);
  for (let i = 1; i < sized.length; i++) {
    const first = sized[i - 1]!.r;
    const second = sized[i]!.r;
    const shrunk = keys.find((k) => first.output!.lists![k]!.length > second.output!.lists![k]!.length);
    if (shrunk === undefined) continue;
    violations.push({
      kind: 'no-total-order',
      message: `two reads disagree on the order of appends: one saw more of ${shrunk}, ` +
        'the other more of another key',
      window: [describeEntry(first), describeEntry(second)],
      fromMs: Math.min(first.invokeMs, second.invokeMs),
      toMs: Math.max(first.completeMs, second.completeMs),
    });
  }
}
