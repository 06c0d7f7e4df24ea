// Differential test against the real etcd 3.4 binary: for each bad command line, etcd and Concord
// both refuse it, with the same key words, and both exit non-zero (with the same code where the
// failure is Go flag parsing). Listen URLs use free loopback ports and the data dir is a temp dir,
// so a case that wrongly passed validation cannot touch anything real; it is killed on timeout.
// Without /usr/bin/etcd the test is skipped locally and FAILS in CI (CI=true).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../src/config/index.ts';

const ETCD = '/usr/bin/etcd';
const inCi = process.env['CI'] === 'true';

interface Case {
  name: string;
  args: (u: Urls) => string[];
  env?: Record<string, string>;
  words: string[];
  /** etcd's exit code, when Concord must match it exactly. */
  exitCode?: 1 | 2;
}

interface Urls {
  client: string;
  peer: string;
  otherPeer: string;
  /** Flags that make a valid single member on free ports. */
  base: string[];
}

const CASES: Case[] = [
  {
    name: 'unknown flag',
    args: () => ['--foo'],
    words: ['flag provided but not defined: -foo'],
    exitCode: 2,
  },
  {
    name: 'bad flag syntax',
    args: () => ['---name'],
    words: ['bad flag syntax: ---name'],
    exitCode: 2,
  },
  {
    name: 'missing value',
    args: () => ['--name'],
    words: ['flag needs an argument: -name'],
    exitCode: 2,
  },
  {
    name: 'bad URL scheme',
    args: () => ['--listen-client-urls', 'ftp://1.2.3.4:5'],
    words: [
      '-listen-client-urls',
      'URL scheme must be http, https, unix, or unixs',
      'ftp://1.2.3.4:5',
    ],
    exitCode: 2,
  },
  {
    name: 'URL without port',
    args: () => ['--listen-peer-urls', 'http://1.2.3.4'],
    words: ['-listen-peer-urls', 'URL address does not have the form "host:port"'],
    exitCode: 2,
  },
  {
    name: 'URL with a path',
    args: () => ['--advertise-client-urls', 'http://1.2.3.4:5/x'],
    words: ['URL must not contain a path: http://1.2.3.4:5/x'],
    exitCode: 2,
  },
  {
    name: 'bad number',
    args: () => ['--heartbeat-interval', 'abc'],
    words: ['invalid value "abc" for flag -heartbeat-interval: parse error'],
    exitCode: 2,
  },
  {
    name: 'negative unsigned number',
    args: () => ['--snapshot-count', '-5'],
    words: ['invalid value "-5" for flag -snapshot-count'],
    exitCode: 2,
  },
  {
    name: 'bad boolean',
    args: () => ['--enable-v2=maybe'],
    words: ['invalid boolean value "maybe" for -enable-v2'],
    exitCode: 2,
  },
  {
    name: 'bad cluster state',
    args: () => ['--initial-cluster-state', 'bogus'],
    words: ['invalid value "bogus" for flag -initial-cluster-state'],
    exitCode: 2,
  },
  {
    name: 'stray argument',
    args: (u) => [...u.base, 'extra'],
    words: [`'extra' is not a valid flag`],
    exitCode: 1,
  },
  {
    name: 'election timeout under 5 heartbeats',
    args: (u) => [...u.base, '--heartbeat-interval', '300', '--election-timeout', '1000'],
    words: [
      '--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]',
    ],
    exitCode: 1,
  },
  {
    name: 'listen client URLs without advertise',
    args: (u) => ['--listen-client-urls', u.client],
    words: ['--advertise-client-urls is required when --listen-client-urls is set explicitly'],
    exitCode: 1,
  },
  {
    name: 'name missing from the initial cluster',
    args: (u) => [...u.base, '--name', 'n9'],
    words: [`couldn't find local name "n9" in the initial cluster configuration`],
    exitCode: 1,
  },
  {
    name: 'advertised peer URL missing from the initial cluster',
    args: (u) => [...u.base, '--initial-cluster', `default=${u.otherPeer}`],
    words: [
      `--initial-cluster has default=${'${other}'} but missing from`,
      '--initial-advertise-peer-urls=',
    ],
    exitCode: 1,
  },
  {
    name: 'https peer URL without peer TLS',
    args: (u) => [...u.base, '--listen-peer-urls', u.peer.replace('http:', 'https:')],
    words: ['cannot listen on TLS for 127.0.0.1:', 'KeyFile and CertFile are not presented'],
    exitCode: 1,
  },
  {
    name: 'peer certificate without its key',
    args: (u) => [...u.base, '--peer-cert-file', 'peer.crt'],
    words: ['KeyFile and CertFile must both be present[key: , cert: peer.crt]'],
    exitCode: 1,
  },
  {
    name: 'unknown compaction mode',
    args: (u) => [...u.base, '--auto-compaction-mode', 'bogus'],
    words: ['unknown auto-compaction-mode "bogus"'],
    exitCode: 1,
  },
  {
    name: 'bad compaction retention',
    args: (u) => [...u.base, '--auto-compaction-retention', '1x'],
    words: ['error parsing CompactionRetention', 'unknown unit "x" in duration "1x"'],
    exitCode: 1,
  },
  {
    name: 'unknown logger',
    args: (u) => [...u.base, '--logger', 'bogus'],
    words: ['unknown logger option "bogus"'],
    exitCode: 1,
  },
  {
    name: 'flag and env var together',
    args: (u) => [...u.base, '--name', 'default'],
    env: { ETCD_NAME: 'other' },
    words: [
      'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag',
    ],
    exitCode: 1,
  },
  {
    name: 'bad env value',
    args: (u) => u.base,
    env: { ETCD_SNAPSHOT_COUNT: 'abc' },
    words: ['invalid value "abc" for ETCD_SNAPSHOT_COUNT: parse error'],
    exitCode: 1,
  },
];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function urls(): Promise<Urls> {
  const [c, p, o] = [await freePort(), await freePort(), await freePort()];
  const client = `http://127.0.0.1:${c}`;
  const peer = `http://127.0.0.1:${p}`;
  const base = [
    '--listen-client-urls', client,
    '--advertise-client-urls', client,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `default=${peer}`,
  ];
  return { client, peer, otherPeer: `http://127.0.0.1:${o}`, base };
}

function runEtcd(args: string[], env: Record<string, string>, dir: string) {
  const r = spawnSync(ETCD, ['--data-dir', join(dir, 'data'), ...args], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: 15_000,
    killSignal: 'SIGKILL',
  });
  return { status: r.status, signal: r.signal, output: `${r.stdout}${r.stderr}` };
}

function runConcord(args: string[], env: Record<string, string>, dir: string): ConfigError {
  try {
    parseConfig(['--data-dir', join(dir, 'data'), ...args], env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail(`Concord accepted ${JSON.stringify(args)}`);
}

test('etcd differential - bad command lines fail alike in etcd 3.4 and Concord', async (t) => {
  if (!existsSync(ETCD)) {
    if (inCi) assert.fail(`${ETCD} is missing: the differential test must run in CI`);
    t.skip(`${ETCD} not installed`);
    return;
  }
  for (const c of CASES) {
    const u = await urls();
    const dir = mkdtempSync(join(tmpdir(), 'concord-config-diff-'));
    try {
      const args = c.args(u);
      const env = c.env ?? {};
      const words = c.words.map((w) => w.replace('${other}', u.otherPeer));
      const etcd = runEtcd(args, env, dir);
      assert.equal(etcd.signal, null, `${c.name}: etcd started instead of failing validation`);
      assert.notEqual(etcd.status, 0, `${c.name}: etcd exited 0`);
      const concord = runConcord(args, env, dir);
      for (const w of words) {
        assert.ok(etcd.output.includes(w), `${c.name}: etcd output lacks "${w}":\n${etcd.output}`);
        const got = concord.message;
        assert.ok(got.includes(w), `${c.name}: Concord "${got}" lacks "${w}"`);
      }
      if (c.exitCode !== undefined) {
        assert.equal(etcd.status, c.exitCode, `${c.name}: etcd exit code`);
        assert.equal(concord.exitCode, c.exitCode, `${c.name}: Concord exit code`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
