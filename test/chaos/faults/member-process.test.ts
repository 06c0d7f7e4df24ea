// Member processes in a namespace: the pid is the member's own (not `ip` or `setpriv`), signals
// reach it, a killed member starts again with the same command line, each life is logged, and
// no member outlives the harness, even one killed by SIGKILL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { isAlive } from '../net/names.ts';
import { requireNamespaces, TestNetwork } from '../net/network.ts';
import { MemberProcess, processState } from './member-process.ts';

/** A stand-in member: prints its pid once ready, then a line per SIGUSR2; runs until killed. */
const SLEEPER = String.raw`
process.on('SIGUSR2', () => console.log('got SIGUSR2'));
setInterval(() => {}, 1000);
console.log('sleeper pid ' + process.pid + ' argv ' + process.argv.slice(1).join(' '));
`;

const support = requireNamespaces();

describe('chaos faults - member processes', { ...support }, () => {
  let network: TestNetwork;
  let dir: string;

  before(async () => {
    network = await TestNetwork.create({ names: ['m1'] });
    dir = mkdtempSync(join(tmpdir(), 'chaos-member-'));
  });

  after(async () => {
    await network?.tearDown();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function sleeper(env: Record<string, string> = {}): MemberProcess {
    return new MemberProcess('m1', {
      command: process.execPath,
      args: ['-e', SLEEPER, 'first'],
      env: { PATH: process.env['PATH'] ?? '', ...env },
      enter: network.enter('m1'),
      logFile: join(dir, 'm1.log'),
    });
  }

  async function waitForLog(member: MemberProcess, text: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!member.lifeLogs().includes(text)) {
      assert.ok(Date.now() < deadline, `no "${text}" in:\n${member.logs()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test('chaos faults - the pid is the member itself, inside its namespace', async () => {
    const member = sleeper();
    member.start();
    const pid = member.pid()!;
    try {
      await waitForLog(member, `sleeper pid ${pid}`);
      assert.equal(readlinkSync(`/proc/${pid}/exe`), process.execPath);
      assert.notEqual(readlinkSync(`/proc/${pid}/ns/net`), readlinkSync('/proc/self/ns/net'));
      process.kill(pid, 'SIGUSR2');
      await waitForLog(member, 'got SIGUSR2');
    } finally {
      await member.kill();
    }
  });

  test('chaos faults - pause stops the process, resume continues it, kill -9 ends it', async () => {
    const member = sleeper();
    member.start();
    const pid = member.pid()!;
    await member.pause();
    assert.equal(processState(pid), 'T');
    assert.equal(member.paused(), true);
    await member.resume();
    assert.match(processState(pid) ?? '', /^[RS]$/);
    await member.pause();
    const status = await member.kill();
    assert.deepEqual(status, { code: null, signal: 'SIGKILL' });
    assert.equal(member.pid(), undefined);
    assert.equal(member.running(), false);
    assert.equal(isAlive(pid), false);
    assert.deepEqual(await member.kill(), status, 'a second kill reports the same end');
  });

  test('chaos faults - a restart has a new pid, the same arguments, its own log', async () => {
    const member = sleeper();
    member.start();
    const first = member.pid()!;
    await member.kill();
    member.start({ env: { EXTRA: 'yes' } });
    const second = member.pid()!;
    try {
      assert.notEqual(second, first);
      await waitForLog(member, `sleeper pid ${second} argv first`);
      assert.ok(!member.lifeLogs().includes(`sleeper pid ${first}`));
      assert.match(member.logs(), /--- chaos: m1 life \d+: EXTRA=yes ip netns exec/);
      assert.throws(() => member.start(), /already running/);
    } finally {
      await member.stop(1_000);
    }
  });

  test('chaos faults - stop ends a paused member with SIGTERM', async () => {
    const member = sleeper();
    member.start();
    await member.pause();
    assert.deepEqual(await member.stop(5_000), { code: null, signal: 'SIGTERM' });
  });

  test('chaos faults - members die with a harness killed by SIGKILL', async () => {
    // A harness process that starts a member and prints its pid; then we SIGKILL the harness.
    const memberProcessModule = join(import.meta.dirname, 'member-process.ts');
    const script = String.raw`
      import { MemberProcess } from ${JSON.stringify(memberProcessModule)};
      const m = new MemberProcess('m1', {
        command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'],
        env: { PATH: process.env.PATH }, enter: ${JSON.stringify(network.enter('m1'))},
        logFile: ${JSON.stringify(join(dir, 'orphan.log'))},
      });
      m.start();
      console.log(m.pid());
      setInterval(() => {}, 1000);
    `;
    const argv = ['--import', 'tsx', '--input-type=module', '-e', script];
    const harness = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) =>
      createInterface({ input: harness.stdout! }).once('line', (line) => resolve(Number(line))),
    );
    assert.ok(isAlive(pid));
    // NB: the parent-death signal is armed by setpriv, which runs after `ip netns exec`: kill the
    // harness only once the member's own program runs, or the test races that setup.
    const armedBy = Date.now() + 10_000;
    while (!readlinkQuietly(`/proc/${pid}/exe`).startsWith(process.execPath) && Date.now() < armedBy) {
      await new Promise((r) => setTimeout(r, 20));
    }
    harness.kill('SIGKILL');
    const deadline = Date.now() + 5_000;
    while (isAlive(pid) && processState(pid) !== 'Z' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(!isAlive(pid) || processState(pid) === 'Z', `member ${pid} outlived its harness`);
  });
});

function readlinkQuietly(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}
