// Durability under SIGKILL: a child appends synced batches and reports each acknowledged save; it
// is killed at random moments, and replay must hold every acknowledged entry, intact and in order.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import test from 'node:test';
import { Wal } from '../../src/wal/index.ts';
import { crashEntry } from './fixtures/crash-entry.ts';
import { removeDir, tempDir } from './helpers.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'crash-writer.ts');

/** Runs the writer until `killAfterMs` past its first ack, SIGKILLs it; the highest ack seen. */
function runAndKill(dir: string, killAfterMs: number): Promise<{ acked: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acked = 0;
    let pending = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) acked = Math.max(acked, Number(line.slice(4)));
      timer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`crash writer exited with ${code}: ${stderr}`));
      else resolve({ acked, stderr });
    });
  });
}

const SLOW = { timeout: 120_000 };

test('wal - every save acknowledged before a SIGKILL is replayed', SLOW, async () => {
  const dir = tempDir();
  try {
    let ackedEver = 0;
    let seed = 12345;
    for (let round = 0; round < 6; round++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const { acked, stderr } = await runAndKill(dir, 20 + (seed % 300));
      ackedEver = Math.max(ackedEver, acked);
      const options = { segmentBytes: 128 * 1024, log: () => undefined };
      const { wal, replay } = await Wal.open(dir, options);
      const segments = wal.segmentNames().length;
      await wal.close();
      const last = replay.entries.at(-1)?.index ?? 0;
      const context = `round ${round}: replayed to ${last}, acknowledged ${ackedEver}; ${stderr}`;
      assert.ok(last >= ackedEver, context);
      assert.ok(replay.hardState.commit >= ackedEver, `round ${round}: hard state lost`);
      replay.entries.forEach((e, i) => assert.deepEqual(e, crashEntry(i + 1), `entry ${i + 1}`));
      if (round === 5) assert.ok(segments > 1, 'the crashes crossed segment cuts');
    }
  } finally {
    removeDir(dir);
  }
});
