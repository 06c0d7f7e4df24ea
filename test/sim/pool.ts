// Runs many seeds across worker threads (one per core by default), for the CLI and the test
// suite. Each worker registers tsx's loader itself: loader hooks do not cross into new threads.
import { Worker } from 'node:worker_threads';
import { type SeedSummary, type WorkRequest, runSummary } from './worker.ts';

/** How to spread the seeds. */
export interface PoolOptions {
  /** Threads to use; 1 runs in this thread. */
  workers: number;
}

/** A worker running worker.ts. */
function startWorker(): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true });
}

/** Runs `seeds`, handing each summary to `onResult` as it arrives (not in seed order). */
export async function runSeeds(
  seeds: readonly number[],
  base: Omit<WorkRequest, 'seeds'>,
  opts: PoolOptions,
  onResult: (s: SeedSummary) => void,
): Promise<void> {
  if (opts.workers <= 1 || seeds.length <= 1) {
    for (const seed of seeds) onResult(runSummary(seed, base));
    return;
  }
  const queue = [...seeds];
  const batch = Math.max(1, Math.min(20, Math.ceil(queue.length / (opts.workers * 8))));
  const workers = Array.from({ length: Math.min(opts.workers, seeds.length) }, () => startWorker());
  await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
    const next = (): void => {
      const batchSeeds = queue.splice(0, batch);
      if (batchSeeds.length === 0) {
        w.terminate().then(() => resolve(), reject);
        return;
      }
      w.postMessage({ ...base, seeds: batchSeeds } satisfies WorkRequest);
    };
    w.on('message', (results: SeedSummary[]) => {
      for (const r of results) onResult(r);
      next();
    });
    w.on('error', reject);
    next();
  })));
}

/** Runs `seeds` and collects their summaries in seed order. */
export async function collectSeeds(
  seeds: readonly number[],
  base: Omit<WorkRequest, 'seeds'>,
  opts: PoolOptions,
): Promise<SeedSummary[]> {
  const out: SeedSummary[] = [];
  await runSeeds(seeds, base, opts, (s) => out.push(s));
  return out.sort((a, b) => a.seed - b.seed);
}
