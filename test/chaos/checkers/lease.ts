// The lease workload's checker. Workers grant leases, put keys under them, keep some alive, let
// others expire and revoke the rest; readers list the keys. From the history alone:
//
//   guaranteed alive  A successful grant or keep-alive invoked at i with TTL t proves the lease
//                     lives until at least i + t (the leader renews it no earlier than i), unless
//                     a revoke was invoked before: the union of [completion, i + t] intervals,
//                     cut at the first revoke.
//   must be gone      The last moment anything could have renewed it (a keep-alive's completion;
//                     an unknown one's give-up time plus a bound) plus TTL plus slack, pushed past
//                     every fault window it overlaps (no leader: no expiry; a new leader extends
//                     every lease, as etcd's does); or an acknowledged revoke's completion.
//
// Violations: a read invoked after "must be gone" that still lists a key of the lease
// (`lease-outlived`); a read inside "guaranteed alive", after the key's put was acknowledged,
// that misses it, or a keep-alive there answered "not found" (`lease-lost`).
import { describeEntry, type HistoryEntry } from '../history.ts';
import { type Verdict, type Violation, verdictOf } from './verdict.ts';

/** A lease-workload operation; lease ids are decimal strings (JSON has no bigint). */
export type LeaseInput =
  | { op: 'grant'; ttlSeconds: number }
  | { op: 'put'; key: string; value: string; lease: string }
  | { op: 'keepalive'; lease: string }
  | { op: 'revoke'; lease: string }
  | { op: 'ttl'; lease: string }
  | { op: 'read'; prefix: string };

/** What it observed. */
export interface LeaseOutput {
  /** grant: the new lease. */
  lease?: string;
  /** grant, keepalive: the TTL in seconds (keepalive 0: the lease does not exist); ttl: the
   * whole seconds left (-1: the lease does not exist). */
  ttlSeconds?: number;
  /** read: every key under the prefix with the lease it is attached to. */
  keys?: Record<string, string>;
}

/** A lease history entry. */
export type LeaseEntry = HistoryEntry<LeaseInput, LeaseOutput>;

/** A span during which a fault was in effect (plus the time the cluster needs to settle). */
export interface FaultWindow {
  fromMs: number;
  toMs: number;
}

/** Options of checkLease. */
export interface LeaseCheckOptions {
  /** When faults were in effect. */
  faults?: FaultWindow[];
  /** Allowed life past TTL after the last renewal, in ms; default TTL + 3 s (a leader change
   * without a fault renews every lease, adding up to a TTL and an election). */
  slackMs?: number;
  /** How long after its client gave up an unknown keep-alive may still renew, in ms (5 s). */
  unknownRenewMs?: number;
  /**
   * `tolerated`: a keep-alive that overlaps a fault window proves nothing about liveness (it may
   * have been answered by a stale leader that renewed the lease only in its own lessor). etcd
   * 3.4.23 does that (etcd-io/etcd#15247: LeaseRenew does not check leadership; fixed in later
   * releases), so runs against it tolerate it; concord must not (`violation`, the default).
   */
  staleLeaderRenewals?: 'tolerated' | 'violation';
}

interface LeaseFacts {
  id: string;
  ttlMs: number;
  grant: LeaseEntry;
  alive: [number, number][];
  /** The grant and keep-alives the alive intervals come from, in order. */
  renewals: LeaseEntry[];
  mustBeGoneMs: number;
  /** Why mustBeGoneMs is what it is, for the report. */
  goneBecause: LeaseEntry[];
}

/** Checks a lease history. */
export function checkLease(
  entries: readonly LeaseEntry[],
  options: LeaseCheckOptions = {},
): Verdict {
  const violations: Violation[] = [];
  const leases = leaseFacts(entries, options);
  const puts = new Map<string, LeaseEntry>();
  for (const e of entries) if (e.input.op === 'put' && e.outcome === 'ok') puts.set(e.input.key, e);
  let observations = 0;
  for (const e of entries) {
    if (e.outcome !== 'ok') continue;
    if (e.input.op === 'read') {
      observations++;
      checkRead(e, leases, puts, violations);
    } else if (e.input.op === 'keepalive' || e.input.op === 'ttl') {
      observations++;
      checkLiveness(e, e.input.lease, leases, violations);
    }
  }
  return verdictOf(
    'lease',
    `${leases.size} leases, ${observations} observations: no key outlived its lease, no live lease lost a key`,
    violations,
  );
}

function leaseFacts(
  entries: readonly LeaseEntry[],
  options: LeaseCheckOptions,
): Map<string, LeaseFacts> {
  const byLease = new Map<string, LeaseEntry[]>();
  const leases = new Map<string, LeaseFacts>();
  for (const e of entries) {
    if (e.input.op === 'grant') {
      if (e.outcome !== 'ok' || e.output?.lease === undefined) continue;
      byLease.set(e.output.lease, [e]);
    } else if (e.input.op !== 'read' && e.input.op !== 'put') {
      byLease.get(e.input.lease)?.push(e);
    }
  }
  for (const [id, ops] of byLease) {
    const grant = ops[0]!;
    const ttlMs = (grant.output!.ttlSeconds ?? (grant.input as { ttlSeconds: number }).ttlSeconds) * 1000;
    const slackMs = options.slackMs ?? ttlMs + 3_000;
    const revokes = ops.filter((o) => o.input.op === 'revoke' && o.outcome !== 'failed');
    const revokeInvoked = Math.min(...revokes.map((o) => o.invokeMs));
    const alive: [number, number][] = [];
    const renewals: LeaseEntry[] = [];
    let lastRenewal = grant.completeMs;
    let renewedBy = grant;
    for (const o of ops) {
      if (o.input.op !== 'grant' && o.input.op !== 'keepalive') continue;
      if (o.outcome === 'ok' && (o.output?.ttlSeconds ?? 0) > 0) {
        if (options.staleLeaderRenewals === 'tolerated' && o.input.op === 'keepalive' &&
            (options.faults ?? []).some((f) => f.fromMs <= o.completeMs && o.invokeMs <= f.toMs)) {
          if (o.completeMs > lastRenewal) [lastRenewal, renewedBy] = [o.completeMs, o];
          continue;
        }
        alive.push([o.completeMs, Math.min(o.invokeMs + o.output!.ttlSeconds! * 1000, revokeInvoked)]);
        renewals.push(o);
        if (o.completeMs > lastRenewal) [lastRenewal, renewedBy] = [o.completeMs, o];
      } else if (o.outcome === 'unknown') {
        const until = (o.gaveUpMs ?? o.invokeMs) + (options.unknownRenewMs ?? 5_000);
        if (until > lastRenewal) [lastRenewal, renewedBy] = [until, o];
      }
    }
    let mustBeGoneMs = pastFaults(lastRenewal, ttlMs + slackMs, options.faults ?? []);
    const goneBecause = [renewedBy];
    for (const o of ops) {
      if (o.input.op === 'revoke' && o.outcome === 'ok' && o.completeMs < mustBeGoneMs) {
        mustBeGoneMs = o.completeMs;
        goneBecause.splice(0, goneBecause.length, o);
      }
    }
    leases.set(id, { id, ttlMs, grant, alive: merge(alive), renewals, mustBeGoneMs, goneBecause });
  }
  return leases;
}

/** The end of [start, start + span], moved past every fault window it overlaps. */
function pastFaults(start: number, span: number, faults: FaultWindow[]): number {
  let end = start + span;
  for (let changed = true; changed;) {
    changed = false;
    for (const f of faults) {
      if (f.fromMs <= end && f.toMs >= start && f.toMs + span > end) {
        end = f.toMs + span;
        changed = true;
      }
    }
  }
  return end;
}

function merge(intervals: [number, number][]): [number, number][] {
  const sorted = intervals.filter(([a, b]) => a <= b).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function within(lease: LeaseFacts, from: number, to: number): boolean {
  return lease.alive.some(([a, b]) => a <= from && to <= b);
}

/** The grant, the last renewal before `e` (what proves the lease alive), and `e`, described. */
function aliveWindow(lease: LeaseFacts, ...entries: LeaseEntry[]): string[] {
  const last = entries.at(-1)!;
  const renewal = lease.renewals.filter((r) => r.completeMs <= last.invokeMs).at(-1);
  const proof = renewal === undefined || renewal === lease.grant ? [] : [renewal];
  const shown = [lease.grant, ...entries.slice(0, -1), ...proof, last];
  return shown.map((x) => describeEntry(x));
}

function checkRead(
  read: LeaseEntry,
  leases: Map<string, LeaseFacts>,
  puts: Map<string, LeaseEntry>,
  violations: Violation[],
): void {
  const keys = read.output?.keys ?? {};
  for (const [key, leaseId] of Object.entries(keys)) {
    const lease = leases.get(leaseId);
    if (lease === undefined || read.invokeMs <= lease.mustBeGoneMs) continue;
    violations.push({
      kind: 'lease-outlived',
      message: `key ${key} of lease ${leaseId} (TTL ${lease.ttlMs / 1000} s) is still there ` +
        `${((read.invokeMs - lease.mustBeGoneMs) / 1000).toFixed(1)} s after the lease had to be gone`,
      window: [...lease.goneBecause.map((e) => describeEntry(e)), describeEntry(read)],
      fromMs: lease.goneBecause[0]!.invokeMs,
      toMs: read.completeMs,
    });
  }
  for (const [key, put] of puts) {
    if (put.input.op !== 'put' || keys[key] !== undefined || put.completeMs >= read.invokeMs) continue;
    const lease = leases.get(put.input.lease);
    if (lease === undefined || !within(lease, read.invokeMs, read.completeMs)) continue;
    violations.push({
      kind: 'lease-lost',
      message: `key ${key} of lease ${lease.id} is missing while the lease was certainly alive`,
      window: aliveWindow(lease, put, read),
      fromMs: put.invokeMs,
      toMs: read.completeMs,
    });
  }
}

function checkLiveness(
  e: LeaseEntry,
  leaseId: string,
  leases: Map<string, LeaseFacts>,
  violations: Violation[],
): void {
  const lease = leases.get(leaseId);
  if (lease === undefined) return;
  // NB: TimeToLive answers -1 for a lease that is gone and whole seconds left otherwise (0: less
  // than one); a keep-alive answers 0 for a lease that is gone.
  const ttl = e.output?.ttlSeconds ?? 0;
  const exists = e.input.op === 'ttl' ? ttl >= 0 : ttl > 0;
  if (!exists && within(lease, e.invokeMs, e.completeMs)) {
    violations.push({
      kind: 'lease-lost',
      message: `lease ${leaseId} was not found while it was certainly alive`,
      window: aliveWindow(lease, e),
      fromMs: lease.grant.invokeMs,
      toMs: e.completeMs,
    });
  } else if (exists && e.invokeMs > lease.mustBeGoneMs) {
    violations.push({
      kind: 'lease-outlived',
      message: `lease ${leaseId} still exists (TTL ${ttl} s) after it had to be gone`,
      window: [...lease.goneBecause.map((x) => describeEntry(x)), describeEntry(e)],
      fromMs: lease.goneBecause[0]!.invokeMs,
      toMs: e.completeMs,
    });
  }
}
