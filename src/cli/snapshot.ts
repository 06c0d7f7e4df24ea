// `concord snapshot restore <file> [--data-dir DIR] [--name ...]`: turns a snapshot streamed by
// `etcdctl snapshot save` (the key space's LMDB file followed by its SHA-256) into a data dir.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Store } from '../mvcc/index.ts';
import { computeClusterId, computeMemberId } from '../server/ids.ts';
import { bootstrapStorage, dataDirLayout, type MemberInfo } from '../server/storage.ts';
import { Membership } from '../server/membership.ts';

const usage = 'usage: concord snapshot restore <filename> [--data-dir DIR] [--name NAME] [--initial-cluster C] [--initial-cluster-token T] [--initial-advertise-peer-urls URLS] [--skip-hash-check]';

/** Runs a `concord snapshot ...` command; returns the exit code. */
export async function runSnapshotCommand(argv: string[]): Promise<number> {
  if (argv[0] !== 'restore' || argv.length < 2) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: argv.slice(1),
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      name: { type: 'string', default: 'default' },
      'initial-cluster': { type: 'string' },
      'initial-cluster-token': { type: 'string', default: 'etcd-cluster' },
      'initial-advertise-peer-urls': { type: 'string', default: 'http://127.0.0.1:2380' },
      'skip-hash-check': { type: 'boolean', default: false },
    },
  });
  const file = positionals[0]!;
  const name = values.name;
  const dataDir = values['data-dir'] ?? `${name}.concord`;
  if (existsSync(join(dataDir, 'member'))) {
    process.stderr.write(`Error: data-dir "${dataDir}" exists\n`);
    return 1;
  }
  const bytes = readFileSync(file);
  let db = bytes;
  // A streamed snapshot ends with the SHA-256 of what precedes it.
  if (bytes.length > 32) {
    const body = bytes.subarray(0, bytes.length - 32);
    const sum = createHash('sha256').update(body).digest();
    if (sum.equals(bytes.subarray(bytes.length - 32))) db = body;
    else if (!values['skip-hash-check']) {
      process.stderr.write('Error: snapshot missing hash but --skip-hash-check=false\n');
      return 1;
    }
  }
  const peerUrls = values['initial-advertise-peer-urls'].split(',');
  const cluster = values['initial-cluster'] ?? `${name}=${peerUrls.join(',')}`;
  const token = values['initial-cluster-token'];
  const byName = new Map<string, string[]>();
  for (const part of cluster.split(',')) {
    const [n, url] = part.split('=');
    if (n === undefined || url === undefined) throw new Error(`--initial-cluster: invalid entry "${part}"`);
    byName.set(n, [...(byName.get(n) ?? []), url]);
  }
  const members: MemberInfo[] = [...byName].map(([n, urls]) => ({ id: computeMemberId(urls, token), name: n, peerUrls: urls, clientUrls: [], isLearner: false }));
  const self = members.find((m) => m.name === name);
  if (self === undefined) throw new Error(`couldn't find local name "${name}" in the initial cluster configuration`);
  const layout = dataDirLayout(dataDir, '');
  mkdirSync(layout.dbDir, { recursive: true });
  writeFileSync(join(layout.dbDir, 'data.mdb'), db);
  // The restored key space must open; its consistent index restarts with the new cluster's log.
  const store = Store.open(layout.dbDir);
  const revision = store.currentRevision;
  store.resetConsistentIndex(0);
  // The snapshot's membership is the old cluster's: the restored data starts a new one.
  new Membership(store).replaceAll(members);
  await store.close();
  const opened = await bootstrapStorage(layout, { memberId: self.id, clusterId: computeClusterId(members.map((m) => m.id)) }, members, () => undefined);
  await opened.wal.close();
  process.stdout.write(`restored snapshot ${file} (revision ${revision}) into ${dataDir}\n`);
  return 0;
}
