// The real etcdctl (API v3) against a real concord: every command is also run against a real
// etcd 3.4 started beside it, with the same writes in the same order, and what etcdctl prints must
// be the same on both — in `-w simple` and `-w json` — up to ids, terms, raft indexes, sizes and
// timings. Where concord differs by design (its snapshot is an LMDB file), only concord is checked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { type ConcordProcess, freePort, requireTool, startConcord } from './concord-process.ts';
import { ETCD_BIN, ETCDCTL_BIN, type EtcdProcess, startEtcd } from './etcd-process.ts';
import { type CtlProcess, CtlSide, etcdctl, etcdctlBackground } from './etcdctl-side.ts';

const root = join(import.meta.dirname, '..', '..');
const tools = [requireTool(ETCDCTL_BIN), requireTool(ETCD_BIN)];
const skip = tools.find((t) => t.skip !== false)?.skip ?? false;

describe('etcdctl against concord and etcd', { skip }, () => {
  let concord: ConcordProcess | undefined;
  let etcd: EtcdProcess | undefined;
  let sides: [CtlSide, CtlSide];

  before(async () => {
    [concord, etcd] = await Promise.all([startConcord(), startEtcd()]);
    sides = [new CtlSide('concord', concord.endpoint), new CtlSide('etcd', etcd.endpoint)];
    await Promise.all(sides.map((s) => s.learnIds()));
  });

  after(async () => {
    await Promise.all([concord?.stop(), etcd?.stop()]);
    concord?.cleanup();
  });

  /** Runs `args` on both servers (concord first, then etcd) and asserts equal output. */
  async function same(args: readonly string[] | ((s: CtlSide) => readonly string[]), input = ''): Promise<string> {
    // The two servers are independent: run both at once.
    const views = await Promise.all(sides.map(async (side) => side.view(await side.ctl(typeof args === 'function' ? args(side) : args, input))));
    const label = typeof args === 'function' ? args(sides[1]).join(' ') : args.join(' ');
    assert.deepEqual(views[0], views[1], `etcdctl ${label}: concord (actual) vs etcd (expected)`);
    return views[0]!.stdout;
  }

  test('put and get print what etcd prints, with every get flag, in simple and json output', async () => {
    for (const [k, v] of [['foo', 'bar'], ['foo1', 'bar1'], ['foo2', 'bar2'], ['zoo', 'z'], ['foo1', 'bar1b']]) {
      assert.equal(await same(['put', k!, v!]), 'OK\n');
    }
    const gets = [
      ['get', 'foo'],
      ['get', 'foo', '--prefix'],
      ['get', 'foo', 'foo2'],
      ['get', 'foo1', '--from-key'],
      ['get', '', '--from-key', '--limit', '2'],
      ['get', 'foo', '--rev', '2'],
      ['get', 'foo1', '--rev', '3'],
      ['get', 'foo', '--prefix', '--keys-only'],
      ['get', 'foo', '--prefix', '--sort-by', 'MODIFY', '--order', 'DESCEND'],
      ['get', 'foo', '--prefix', '--sort-by', 'VALUE', '--order', 'ASCEND', '--limit', '2'],
      ['get', 'foo', '--prefix', '--sort-by', 'VERSION', '--order', 'DESCEND'],
      ['get', 'foo', '--prefix', '--sort-by', 'CREATE', '--order', 'DESCEND'],
      ['get', 'foo', '--prefix', '--print-value-only'],
      ['get', 'foo', '--consistency', 's'],
      ['get', 'missing'],
      ['get', 'foo', '--rev', '1000'],
      ['get', 'foo', '--prefix', '--hex'],
      ['get', 'foo', '-w', 'fields'],
    ];
    for (const [i, g] of gets.entries()) {
      await same(g);
      // JSON for most of them (every flag is in some JSON run); fewer runs keep the file quick.
      if (i % 3 !== 2) await same([...g, '-w', 'json']);
    }
    assert.equal(await same(['get', 'foo', '--prefix', '--print-value-only']), 'bar\nbar1b\nbar2\n');
    // etcdctl 3.4 has no --count-only (3.5 added it): both refuse the flag the same way.
    await same(['get', 'foo', '--prefix', '--count-only']);
  });

  test('put --prev-kv, --ignore-value, --ignore-lease and --lease behave as in etcd', async () => {
    await same(['put', 'p', 'one']);
    await same(['put', 'p', 'two', '--prev-kv']);
    await same(['put', 'p', 'three', '--prev-kv', '-w', 'json']);
    await same(['put', 'p', '--ignore-value', '--prev-kv']);
    await same(['put', 'nokey', '--ignore-value']);
    await same(['put', 'nokey', '--ignore-lease']);
    for (const s of sides) await s.grantLease('put', 600);
    await same((s) => ['put', 'p', 'leased', '--lease', s.lease('put')]);
    await same(['put', 'p', 'kept', '--ignore-lease', '--prev-kv', '-w', 'json']);
    await same(['get', 'p', '-w', 'json']);
    await same(['put', 'p', 'v', '--lease', '1234abcd']);
    await same((s) => ['lease', 'revoke', s.lease('put')]);
    await same(['get', 'p']);
  });

  test('del with --prefix, --prev-kv and --from-key prints what etcd prints', async () => {
    for (const k of ['d1', 'd2', 'd3', 'e1', 'e2']) await same(['put', k, `v-${k}`]);
    await same(['del', 'd1', '--prev-kv']);
    await same(['del', 'd', '--prefix', '--prev-kv', '-w', 'json']);
    await same(['del', 'nothing']);
    await same(['del', 'nothing', '-w', 'json']);
    await same(['del', 'e1', '--from-key', '--prev-kv']);
    await same(['get', '', '--from-key', '--keys-only']);
  });

  test('txn reads etcdctl\'s non-interactive format from stdin and answers as etcd does', async () => {
    await same(['put', 't', 'bar']);
    // Compares, a blank line, success ops, a blank line, failure ops, a blank line.
    const inputs = [
      'value("t") = "bar"\n\nput t ok\nget t\n\nput t bad\n\n',
      'value("t") = "bar"\n\nput t ok\n\nput t2 bad\nget t --prefix\n\n',
      'mod("t") > "0"\nversion("t") = "2"\ncreate("nope") = "0"\n\nput t3 v\ndel t2\nget t --prefix --keys-only\n\n\n',
      'value("t") != "ok"\n\n\nput t4 x\n\n',
      'lease("t") = "0"\n\nget t --prefix --limit=1\n\n\n',
    ];
    for (const input of inputs) {
      await same(['txn'], input);
      await same(['get', 't', '--prefix', '-w', 'json']);
    }
    await same(['txn', '-w', 'json'], 'value("t") = "ok"\n\nput t5 y\nget t5\ndel t4 --prev-kv\n\n\n');
    await same(['txn', '-w', 'json'], 'value("zz") = "a"\n\n\nget t --prefix --rev=2\n\n');
  });

  test('watch streams puts, deletes and txns with --prefix, --rev and --prev-kv as etcd does', async () => {
    // --rev makes every watcher start at a known revision: no race with the writes below.
    const start = Number(/"revision":(\d+)/.exec((await sides[0].ctl(['get', 'w', '-w', 'json'])).stdout)?.[1]) + 1;
    const watchers: CtlProcess[][] = sides.map((s) => [
      etcdctlBackground(s.endpoint, ['watch', 'w', '--prefix', '--prev-kv', '--rev', String(start)]),
      etcdctlBackground(s.endpoint, ['watch', 'w1', '--rev', String(start), '-w', 'json']),
      etcdctlBackground(s.endpoint, ['watch', 'w2', 'w9', '--rev', String(start)]),
    ]);
    try {
      await same(['put', 'w1', 'a']);
      await same(['put', 'w1', 'b']);
      await same(['put', 'w2', 'c']);
      await same(['del', 'w1']);
      await same(['txn'], '\nput w3 x\nput w4 y\ndel w2\n\n\n');
      await same(['put', 'w1', 'last']);
      const outputs: string[][] = [];
      for (const [i, side] of sides.entries()) {
        const mine = watchers[i]!;
        outputs.push([
          side.norm(await mine[0]!.waitFor((o) => o.includes('w1\nlast\n'))),
          side.norm(await mine[1]!.waitFor((o) => o.includes(Buffer.from('last').toString('base64')))),
          side.norm(await mine[2]!.waitFor((o) => o.includes('w4\ny\n'))),
        ]);
      }
      assert.deepEqual(outputs[0], outputs[1]);
      assert.match(outputs[0]![0]!, /^PUT\nw1\na\nPUT\nw1\na\nw1\nb\n/);
    } finally {
      await Promise.all(watchers.flat().map((w) => w.stop()));
    }
  });

  test('lease grant, timetolive, list, keep-alive --once and revoke print what etcd prints', async () => {
    const grants = [];
    for (const s of sides) grants.push(s.view(await s.grantLease('l', 300)));
    assert.deepEqual(grants[0], grants[1]);
    assert.equal(grants[0]!.stdout, 'lease <lease l> granted with TTL(300s)\n');
    const json = [];
    for (const s of sides) json.push(s.view(await s.grantLease('j', 120, true)));
    assert.deepEqual(json[0], json[1]);
    await same((s) => ['put', 'lk1', 'v', '--lease', s.lease('l')]);
    await same((s) => ['put', 'lk2', 'v', `--lease=${s.lease('l')}`]);
    // etcd lists leases in Go map order: compare them as sets.
    const lists = await Promise.all(sides.map(async (s) => s.norm((await s.ctl(['lease', 'list'])).stdout).split('\n').sort()));
    assert.deepEqual(lists[0], lists[1]);
    assert.deepEqual(lists[0], ['', '<lease j>', '<lease l>', 'found 2 leases']);
    // The remaining TTL depends on when the command runs: compare it apart from the rest.
    // etcd lists a lease's keys in Go map order: sort them too.
    const ttl = (out: string): string =>
      out
        .replace(/remaining\(\d+s\)/, 'remaining(<n>s)')
        .replace(/"ttl":\d+/, '"ttl":<n>')
        .replace(/keys\(\[(.*)\]\)/, (_, keys: string) => `keys([${keys.split(' ').sort().join(' ')}])`)
        .replace(/"keys":\[(.*)\]/, (_, keys: string) => `"keys":[${keys.split(',').sort().join(',')}]`);
    for (const extra of [[], ['-w', 'json']]) {
      const views = [];
      for (const s of sides) {
        const res = await s.ctl(['lease', 'timetolive', s.lease('l'), '--keys', ...extra]);
        const remaining = Number(/remaining\((\d+)s\)|"ttl":(\d+)/.exec(res.stdout)?.slice(1).find((x) => x !== undefined));
        assert.ok(remaining > 0 && remaining <= 300, `${s.name}: remaining ${remaining} in ${res.stdout}`);
        views.push(ttl(s.view(res).stdout));
      }
      assert.deepEqual(views[0], views[1]);
    }
    await same((s) => ['lease', 'keep-alive', '--once', s.lease('l')]);
    await same((s) => ['lease', 'keep-alive', '--once', s.lease('l'), '-w', 'json']);
    await same((s) => ['lease', 'revoke', s.lease('l')]);
    await same(['get', 'lk', '--prefix']);
    await same((s) => ['lease', 'timetolive', s.lease('l')]);
    await same((s) => ['lease', 'timetolive', s.lease('l'), '-w', 'json']);
    await same((s) => ['lease', 'revoke', s.lease('l')]);
    await same((s) => ['lease', 'keep-alive', '--once', s.lease('l')]);
    await same((s) => ['lease', 'revoke', s.lease('j')]);
    await same(['lease', 'revoke', '1234abcd']);
    await same(['lease', 'list']);
  });

  test('compaction refuses reads below it, and compacting again, with etcd\'s errors', async () => {
    await same(['put', 'c', 'one']);
    const rev = Number(/"revision":(\d+)/.exec((await sides[0].ctl(['get', 'c', '-w', 'json'])).stdout)?.[1]);
    await same(['put', 'c', 'two']);
    await same(['compaction', String(rev)]);
    await same(['get', 'c', '--rev', String(rev - 1)]);
    await same(['get', 'c', '--rev', String(rev)]);
    await same(['get', 'c', '--rev', String(rev), '-w', 'json']);
    await same(['compaction', String(rev - 1)]);
    await same(['compaction', String(rev + 1000)]);
    await same(['compaction', String(rev + 1), '--physical']);
    await same(['get', 'c', '--rev', String(rev)]);
    await same(['get', 'c']);
    // A watch from below the compaction is cancelled with the compact revision; etcdctl exits.
    await same(['watch', 'c', '--rev', '1']);
    await same(['watch', 'c', '--rev', '1', '-w', 'json']);
  });

  test('endpoint status, endpoint health, member list, alarm list, defrag and version answer as etcd does', async () => {
    await same(['endpoint', 'status', '-w', 'json']);
    const status = [];
    for (const s of sides) {
      const fields = (await s.ctl(['endpoint', 'status'])).stdout.trimEnd().split(', ');
      // endpoint, id, version, db size, is leader, is learner, term, index, applied index, errors
      status.push(s.norm([fields[0], fields[1], fields[2], fields[4], fields[5], fields[9]].join(', ')));
    }
    assert.deepEqual(status[0], status[1]);
    assert.equal(status[0], '<endpoint>, <member>, 3.4.23, true, false, ');
    await same(['endpoint', 'health']);
    await same(['endpoint', 'health', '-w', 'json']);
    await same(['endpoint', 'health', '--cluster']);
    await same(['endpoint', 'hashkv', '--rev', '1']);
    await same(['member', 'list']);
    await same(['member', 'list', '-w', 'json']);
    await same(['alarm', 'list']);
    await same(['alarm', 'list', '-w', 'json']);
    await same(['defrag']);
    // The member keeps serving after a defragmentation (reads, writes, status).
    await same(['put', 'after-defrag', 'yes']);
    await same(['get', 'after-defrag', '-w', 'json']);
    await same(['alarm', 'list', '-w', 'json']);
    await same(['endpoint', 'status', '-w', 'json']);
    await same(['version']);
  });

  test('endpoint status, hashkv, defrag and snapshot save work when --endpoints is an http:// URL', async () => {
    // etcdctl dials each endpoint as given for these, so grpc-go sends `:authority: http://…`,
    // which node's http2 alone refuses; --cluster does the same with the advertised client URLs.
    const commands = [
      ['endpoint', 'status', '-w', 'json'],
      ['endpoint', 'status', '--cluster', '-w', 'json'],
      ['endpoint', 'hashkv', '-w', 'json'],
      ['defrag'],
      ['endpoint', 'status', '-w', 'json'],
    ];
    const views = await Promise.all(sides.map(async (s) => {
      const out = [];
      for (const args of commands) out.push(s.view(await etcdctl(`http://${s.endpoint}`, args)));
      return out;
    }));
    for (const [i, v] of views[0]!.entries()) assert.equal(v.code, 0, `concord: etcdctl ${commands[i]!.join(' ')}: ${v.error}`);
    assert.deepEqual(views[0], views[1], 'concord (actual) vs etcd (expected)');
    // concord only: its snapshot is an LMDB file (restoring one is tested below).
    const dir = mkdtempSync(join(tmpdir(), 'concord-snap-url-'));
    try {
      const file = join(dir, 'snapshot.db');
      const saved = await etcdctl(`http://${sides[0].endpoint}`, ['snapshot', 'save', file]);
      assert.equal(saved.code, 0, saved.stderr);
      assert.equal(saved.stdout, `Snapshot saved at ${file}\n`);
      assert.ok(statSync(file).size > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('snapshot save streams a snapshot that concord snapshot restore turns into a working data dir', async () => {
    const c = sides[0];
    await c.ctl(['put', 'snap/a', '1']);
    await c.ctl(['put', 'snap/b', '2']);
    const before = (await c.ctl(['get', '', '--from-key', '-w', 'json'])).stdout;
    const dir = mkdtempSync(join(tmpdir(), 'concord-snap-'));
    let restored: ConcordProcess | undefined;
    try {
      const file = join(dir, 'snapshot.db');
      const saved = await c.ctl(['snapshot', 'save', file]);
      assert.equal(saved.code, 0, saved.stderr);
      assert.equal(saved.stdout, `Snapshot saved at ${file}\n`);
      await c.ctl(['put', 'snap/c', 'after the snapshot']);
      const dataDir = join(dir, 'restored');
      const peer = `http://127.0.0.1:${await freePort()}`;
      const restore = await run(process.execPath, [
        '--import', 'tsx', join(root, 'src', 'cli', 'concord.ts'), 'snapshot', 'restore', file,
        '--data-dir', dataDir, '--initial-cluster', `default=${peer}`, '--initial-advertise-peer-urls', peer,
      ]);
      assert.equal(restore.code, 0, restore.stderr);
      assert.match(restore.stdout, /restored snapshot .* into /);
      restored = await startConcord({ dataDir });
      const got = await etcdctl(restored.endpoint, ['get', '', '--from-key', '-w', 'json']);
      const kvs = (out: string): string => /"kvs":(\[.*\])/.exec(out)?.[1] ?? '';
      assert.equal(kvs(got.stdout), kvs(before));
      assert.equal((await etcdctl(restored.endpoint, ['get', 'snap/c'])).stdout, '');
      assert.equal((await etcdctl(restored.endpoint, ['put', 'snap/d', 'new'])).stdout, 'OK\n');
      assert.equal((await etcdctl(restored.endpoint, ['get', 'snap/', '--prefix', '--keys-only'])).stdout, 'snap/a\n\nsnap/b\n\nsnap/d\n\n');
    } finally {
      await restored?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: root, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}
