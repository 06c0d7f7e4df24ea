// The fault schedule of a run, generated from its seed alone: which faults, in which order, how
// long each holds and the quiet gap after it, and the random choices each makes (which member,
// which failpoint). Choices that depend on the cluster's state at the time (who leads) are made
// when the fault is injected; everything else reproduces exactly from the seed.
//
// The first episodes go through every requested kind once (in a seeded order) — always, even
// when that takes longer than the time given — then kinds are drawn at random until the time is
// used up.
import { SeededRng } from '../../src/util/rng.ts';
import type { FaultKind } from './types.ts';

/** Failpoints a `failpoint` episode chooses from (see src/server/failpoints.ts). */
export const CRASH_FAILPOINTS = [
  'raftBeforeSave',
  'raftAfterSave',
  'beforeApplyBatch',
  'backendBeforeCommit',
  'afterApplyBatch',
  'beforeSnapshot',
  'afterSnapshotBeforeWalPurge',
] as const;

/** One planned fault. */
export interface Episode {
  index: number;
  kind: FaultKind;
  /** How long the fault stays in effect before it is healed, in ms. */
  holdMs: number;
  /** Quiet time after healing, before the next fault, in ms. */
  gapMs: number;
  /** A seed for this episode's own choices (members, failpoint). */
  choiceSeed: number;
  /** For `failpoint`: where to crash. */
  failpoint?: string;
}

/** Options of generateSchedule. */
export interface ScheduleOptions {
  seed: number;
  /** The time the faults may take, in ms. */
  timeMs: number;
  kinds: readonly FaultKind[];
  /** Hold time range, in ms (default 2–6 s). */
  holdMs?: [number, number];
  /** Gap range, in ms (default 2–4 s). */
  gapMs?: [number, number];
}

/**
 * A paused leader stays paused at least this long, in ms: past an election timeout (1 s by
 * default) and a campaign, so it wakes up deposed — the case that tests stale leaders.
 */
export const PAUSE_LEADER_HOLD_MS_MIN = 3_000;

/** What an episode costs besides hold and gap (restarts, membership round trips), roughly, ms. */
const OVERHEAD_MS: Partial<Record<FaultKind, number>> = {
  kill: 1_500,
  'kill-leader': 1_500,
  'kill-majority': 2_000,
  membership: 4_000,
  failpoint: 4_000,
  'torn-wal': 2_000,
};

/** A seeded plan of fault episodes filling `timeMs`. */
export function generateSchedule(options: ScheduleOptions): Episode[] {
  const rng = new SeededRng(options.seed ^ 0xfa017);
  const [holdMin, holdMax] = options.holdMs ?? [2_000, 6_000];
  const [gapMin, gapMax] = options.gapMs ?? [2_000, 4_000];
  if (options.kinds.length === 0) return [];
  const firstRound = [...options.kinds];
  for (let i = firstRound.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [firstRound[i], firstRound[j]] = [firstRound[j]!, firstRound[i]!];
  }
  const episodes: Episode[] = [];
  let usedMs = 0;
  for (let index = 0; ; index++) {
    const kind = index < firstRound.length ? firstRound[index]! : rng.pick(options.kinds);
    const drawn = holdMin + rng.int(holdMax - holdMin + 1);
    const holdMs = instant(kind)
      ? 0
      : kind === 'pause-leader' ? Math.max(drawn, PAUSE_LEADER_HOLD_MS_MIN) : drawn;
    const gapMs = gapMin + rng.int(gapMax - gapMin + 1);
    const episode: Episode = { index, kind, holdMs, gapMs, choiceSeed: rng.next() };
    if (kind === 'failpoint') episode.failpoint = rng.pick(CRASH_FAILPOINTS);
    const costMs = holdMs + gapMs + (OVERHEAD_MS[kind] ?? 500);
    if (index >= firstRound.length && usedMs + costMs > options.timeMs) break;
    episodes.push(episode);
    usedMs += costMs;
  }
  return episodes;
}

/** Kinds whose fault and healing are one step (the episode has no hold). */
export function instant(kind: FaultKind): boolean {
  return kind === 'failpoint' || kind === 'torn-wal';
}

/** One line per episode, for the report. */
export function describeSchedule(episodes: readonly Episode[]): string[] {
  return episodes.map((e) =>
    `#${e.index} ${e.kind}${e.failpoint === undefined ? '' : `(${e.failpoint})`} ` +
    `hold ${(e.holdMs / 1000).toFixed(1)}s gap ${(e.gapMs / 1000).toFixed(1)}s`);
}
