// Runs a fault schedule against a cluster: each episode is injected, held, healed, then followed
// by a quiet gap. Every injection and healing is logged with its time on the run's clock, and
// whatever happens, the episode is healed before the next one starts. A fault the layer fails to
// inject or heal is a harness error, recorded and reported, not a violation.
import { SeededRng } from '../../src/util/rng.ts';
import type { Episode } from './schedule.ts';
import type { Cluster } from './types.ts';
import { sleep } from './workloads/workload.ts';

/** What happened to one episode. */
export interface FaultRecord {
  index: number;
  kind: string;
  /** What exactly was done: `kill m2`, `partition [m1] [m2 m3]`… */
  action: string;
  injectedMs: number;
  healedMs: number;
  error?: string;
}

/** Options of runSchedule. */
export interface NemesisOptions {
  now(): number;
  log(line: string): void;
  signal?: AbortSignal;
}

/** Runs every episode in order; resolves when the last one is healed and its gap has passed. */
export async function runSchedule(
  cluster: Cluster,
  episodes: readonly Episode[],
  options: NemesisOptions,
): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  for (const episode of episodes) {
    if (options.signal?.aborted === true) break;
    const record: FaultRecord = {
      index: episode.index, kind: episode.kind, action: '', injectedMs: options.now(), healedMs: NaN,
    };
    records.push(record);
    try {
      const heal = await inject(cluster, episode, (action) => {
        record.action = action;
        record.injectedMs = options.now();
        options.log(`fault #${episode.index} ${action}`);
      });
      await sleep(episode.holdMs, options.signal);
      await heal();
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
      options.log(`fault #${episode.index} ${episode.kind}: harness error: ${record.error}`);
      try {
        await cluster.recover();
      } catch (recoverErr) {
        options.log(`fault #${episode.index}: recover failed: ${String(recoverErr)}`);
      }
    }
    record.healedMs = options.now();
    options.log(`fault #${episode.index} healed`);
    await sleep(episode.gapMs, options.signal);
  }
  return records;
}

type Heal = () => Promise<void>;

/** Injects one episode's fault; returns how to heal it. */
async function inject(
  cluster: Cluster,
  episode: Episode,
  started: (action: string) => void,
): Promise<Heal> {
  const rng = new SeededRng(episode.choiceSeed);
  const names = cluster.members.map((m) => m.name);
  const any = (): string => rng.pick(names);
  const leaderOr = async (): Promise<string> => (await cluster.leader()) ?? any();
  const shuffled = (): string[] => {
    const out = [...names];
    for (let i = out.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  switch (episode.kind) {
    case 'kill':
    case 'kill-leader': {
      const name = episode.kind === 'kill' ? any() : await leaderOr();
      started(`${episode.kind} ${name}`);
      await cluster.kill(name);
      return () => cluster.restart(name);
    }
    case 'kill-majority': {
      const victims = shuffled().slice(0, Math.floor(names.length / 2) + 1);
      started(`kill-majority ${victims.join(' ')}`);
      await Promise.all(victims.map((n) => cluster.kill(n)));
      return async () => {
        await Promise.all(victims.map((n) => cluster.restart(n)));
      };
    }
    case 'pause':
    case 'pause-leader': {
      const name = episode.kind === 'pause' ? any() : await leaderOr();
      started(`${episode.kind} ${name}`);
      await cluster.pause(name);
      return () => cluster.resume(name);
    }
    case 'partition-majority': {
      const order = shuffled();
      const minority = order.slice(0, Math.floor((names.length - 1) / 2));
      const majority = order.slice(minority.length);
      started(`partition [${minority.join(' ')}] [${majority.join(' ')}]`);
      await cluster.partition([minority, majority]);
      return () => cluster.heal();
    }
    case 'partition-leader': {
      const leader = await leaderOr();
      const rest = names.filter((n) => n !== leader);
      started(`partition [${leader}] [${rest.join(' ')}] (isolated leader)`);
      await cluster.partition([[leader], rest]);
      return () => cluster.heal();
    }
    case 'partition-bridge': {
      const order = shuffled();
      const half = Math.floor(order.length / 2);
      const groups = [order.slice(0, half + 1), order.slice(half)];
      started(`partition bridge ${order[half]!}: [${groups[0]!.join(' ')}] [${groups[1]!.join(' ')}]`);
      await cluster.partition(groups);
      return () => cluster.heal();
    }
    case 'partition-one-way': {
      const leader = await leaderOr();
      const others = names.filter((n) => n !== leader);
      started(`one-way: ${leader} → ${others.join(' ')} dropped`);
      for (const other of others) await cluster.oneWay(leader, other);
      return () => cluster.heal();
    }
    case 'membership': {
      const name = any();
      started(`membership: remove ${name}`);
      await cluster.removeMember(name);
      return () => cluster.addMember(name);
    }
    case 'failpoint': {
      const name = any();
      started(`failpoint ${name} ${episode.failpoint ?? ''}`);
      await cluster.crashAtFailpoint(name, episode.failpoint ?? 'raftAfterSave');
      return async () => undefined;
    }
    case 'torn-wal': {
      const name = any();
      started(`torn-wal ${name}`);
      await cluster.tearWalTail(name);
      return async () => undefined;
    }
  }
}
