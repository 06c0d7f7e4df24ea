// The test network really blocks and allows what each operation says: probe agents in three
// member namespaces and the root namespace try TCP connections and UDP datagrams both ways.
// Also: teardown, exit and signal cleanup, and the sweeper leave nothing behind.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { requireNamespaces, TestNetwork } from './network.ts';
import { ProbeAgent } from './probe.ts';
import { isAlive, LOCK_DIR } from './names.ts';
import { readQuietly } from './subnet.ts';
import { sweepStale } from './sweep.ts';

const NAMES = ['m1', 'm2', 'm3'];
const support = requireNamespaces();

describe('chaos net - a namespaced test network', { ...support }, () => {
  let network: TestNetwork;
  const agents = new Map<string, ProbeAgent>();
  let root: ProbeAgent;

  before(async () => {
    network = await TestNetwork.create({ names: NAMES, seed: 17 });
    for (const name of NAMES) {
      agents.set(name, await ProbeAgent.start(network.enter(name), network.address(name)));
    }
    root = await ProbeAgent.start([], network.hostAddress);
  });

  after(async () => {
    for (const agent of [...agents.values(), root]) await agent?.stop();
    await network?.tearDown();
  });

  const agent = (name: string): ProbeAgent => agents.get(name)!;

  /** Which ordered member pairs can open a TCP connection, as `a->b`. */
  async function tcpMatrix(): Promise<string[]> {
    const pairs = NAMES.flatMap((a) => NAMES.filter((b) => b !== a).map((b) => [a, b] as const));
    const results = await Promise.all(
      pairs.map(([a, b]) => agent(a).connect(network.address(b))),
    );
    for (const r of results) assert.ok(r === 'ok' || r === 'timeout', `probe result ${r}`);
    return pairs.filter((_, i) => results[i] === 'ok').map(([a, b]) => `${a}->${b}`);
  }

  /** Clients in the root namespace reach every member, and members reach the root namespace. */
  async function assertClientsReachAll(): Promise<void> {
    for (const name of NAMES) {
      assert.equal(await root.connect(network.address(name)), 'ok', `root -> ${name}`);
      assert.equal(await agent(name).connect(network.hostAddress), 'ok', `${name} -> root`);
    }
  }

  const ALL = ['m1->m2', 'm1->m3', 'm2->m1', 'm2->m3', 'm3->m1', 'm3->m2'];

  test('chaos net - every member reaches every other, and clients reach every member', async () => {
    assert.deepEqual(await tcpMatrix(), ALL);
    await assertClientsReachAll();
    assert.deepEqual(network.blocked(), []);
  });

  test('chaos net - a majority/minority partition cuts exactly the pairs across it', async () => {
    await network.partition([['m1'], ['m2', 'm3']]);
    assert.deepEqual(await tcpMatrix(), ['m2->m3', 'm3->m2']);
    await assertClientsReachAll();
    await network.heal();
    assert.deepEqual(await tcpMatrix(), ALL);
  });

  test('chaos net - isolate leaves one member alone and clients still reach it', async () => {
    await network.isolate('m2');
    assert.deepEqual(await tcpMatrix(), ['m1->m3', 'm3->m1']);
    assert.equal(await root.connect(network.address('m2')), 'ok');
    await network.heal();
  });

  test('chaos net - a bridge member sees both sides, which do not see each other', async () => {
    await network.bridge(['m1'], 'm2', ['m3']);
    assert.deepEqual(await tcpMatrix(), ['m1->m2', 'm2->m1', 'm2->m3', 'm3->m2']);
    // The same through overlapping groups.
    await network.partition([['m1', 'm2'], ['m2', 'm3']]);
    assert.deepEqual(await tcpMatrix(), ['m1->m2', 'm2->m1', 'm2->m3', 'm3->m2']);
    await network.heal();
  });

  test('chaos net - a member left out of every group is isolated', async () => {
    await network.partition([['m1', 'm2']]);
    assert.deepEqual(await tcpMatrix(), ['m1->m2', 'm2->m1']);
    await network.heal();
  });

  test('chaos net - one-way drops packets in one direction only (seen with UDP)', async () => {
    await network.oneWay('m1', 'm2');
    assert.deepEqual(network.blocked(), [['m1', 'm2']]);
    await agent('m1').udp(network.address('m2'), 'lost');
    await agent('m2').udp(network.address('m1'), 'kept');
    await agent('m1').udp(network.address('m3'), 'other');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await agent('m2').heard(), []);
    assert.deepEqual(await agent('m1').heard(), [`${network.address('m2')}:kept`]);
    assert.deepEqual(await agent('m3').heard(), [`${network.address('m1')}:other`]);
    // TCP needs both directions: no new connection forms either way between the two.
    assert.deepEqual(await tcpMatrix(), ['m1->m3', 'm2->m3', 'm3->m1', 'm3->m2']);
    // Added to what is in effect; a partition replaces it.
    await network.oneWay('m3', 'm1');
    assert.deepEqual(network.blocked(), [['m1', 'm2'], ['m3', 'm1']]);
    await network.partition([['m1', 'm2', 'm3']]);
    assert.deepEqual(network.blocked(), []);
    await network.heal();
  });

  test('chaos net - a partition cuts established connections; heal restores', async () => {
    const conn = await agent('m1').open(network.address('m3'));
    assert.equal(await agent('m1').echo(conn), 'ok');
    await network.isolate('m3');
    assert.equal(await agent('m1').echo(conn), 'timeout');
    await network.heal();
    // TCP retransmits with backoff; the echo comes through once a retransmission does.
    assert.equal(await agent('m1').echo(conn, 10_000), 'ok');
    assert.deepEqual(await tcpMatrix(), ALL);
  });

  test('chaos net - rejects unknown members and self-drops', async () => {
    await assert.rejects(network.partition([['m1', 'm9']]), /no member "m9"/);
    await assert.rejects(network.oneWay('m1', 'm1'), /to itself/);
    assert.deepEqual(network.blocked(), []);
  });
});

describe('chaos net - nothing outlives a run', { ...support }, () => {
  test('chaos net - tearDown removes namespaces, links and the subnet lock', async () => {
    const network = await TestNetwork.create({ names: ['m1', 'm2'] });
    assert.notDeepEqual(leftovers(network.tag), []);
    await network.tearDown();
    await network.tearDown();
    assert.deepEqual(leftovers(network.tag), []);
  });

  for (const how of ['exit', 'throw', 'SIGTERM', 'SIGINT'] as const) {
    test(`chaos net - a process that ends by ${how} removes its network`, async () => {
      const child = holdNetwork(how === 'exit' || how === 'throw' ? how : 'wait');
      const tag = await child.tag;
      if (how === 'SIGTERM' || how === 'SIGINT') child.process.kill(how);
      await child.exited;
      assert.deepEqual(leftovers(tag), []);
    });
  }

  test('chaos net - the sweeper removes the network of a run killed by SIGKILL', async (t) => {
    const child = holdNetwork('wait');
    const tag = await child.tag;
    child.process.kill('SIGKILL');
    await child.exited;
    // SIGKILL runs no cleanup. NB: a sweep by a parallel test file (startCluster sweeps) may
    // get there first, so what is left is reported, not asserted.
    t.diagnostic(`left by SIGKILL: ${leftovers(tag).join(', ')}`);
    sweepStale();
    assert.deepEqual(leftovers(tag), []);
  });

  test('chaos net - the sweeper leaves the networks of live runs alone', async () => {
    const network = await TestNetwork.create({ names: ['m1'] });
    try {
      assert.ok(isAlive(process.pid));
      sweepStale();
      assert.notDeepEqual(leftovers(network.tag), []);
    } finally {
      await network.tearDown();
    }
  });
});

/** Namespaces, links and lock files of `tag` that still exist. */
function leftovers(tag: string): string[] {
  const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  const locks = existsSync(LOCK_DIR) ? readdirSync(LOCK_DIR).map((f) => join(LOCK_DIR, f)) : [];
  const lockHeld = locks.filter((path) => readQuietly(path) === tag);
  const names = [...`${namespaces}\n${links}`.matchAll(new RegExp(`${tag}[^\\s:@]*`, 'g'))];
  return [...names.map((m) => m[0]), ...lockHeld];
}

function holdNetwork(how: 'exit' | 'throw' | 'wait'): {
  process: ReturnType<typeof spawn>;
  tag: Promise<string>;
  exited: Promise<void>;
} {
  const script = join(import.meta.dirname, 'hold-network.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, how], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tag = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) =>
      resolve((JSON.parse(line) as { tag: string }).tag),
    );
    child.once('close', (code) => reject(new Error(`hold-network exited early (${String(code)})`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { process: child, tag, exited };
}
