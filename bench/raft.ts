// Proposals per second through an in-memory 3-member cluster: 128-byte entries proposed in batches
// on the leader, replicated, committed and handed to every member for applying.
// Usage: npm run bench:raft [-- --entries N --batch B --members M]
import { parseArgs } from 'node:util';
import { memCluster } from '../test/raft/mem-cluster.ts';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '1000' },
    members: { type: 'string', default: '3' },
    bytes: { type: 'string', default: '128' },
  },
});
const total = Number(values.entries);
const batch = Number(values.batch);
const members = Number(values.members);
const payload = new Uint8Array(Number(values.bytes)).fill(0x61);

const cluster = memCluster(members, { msgBytesMax: 1024 * 1024, inflightMsgsMax: 256 });
cluster.keepApplied = false;
cluster.elect(1n);
const leader = cluster.get(1n).node;

function run(count: number): number {
  const before = cluster.appliedCount;
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < count; sent += batch) {
    for (let i = 0; i < batch; i++) {
      const res = leader.propose(payload);
      if (!res.ok) throw new Error(`proposal dropped: ${res.reason}`);
    }
    cluster.stabilize();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const applied = (cluster.appliedCount - before) / members;
  return applied / seconds;
}

run(Math.min(total, 100_000)); // warm up
const rate = run(total);
const result = { members, entries: total, batch, entryBytes: payload.length, entriesPerSecond: Math.round(rate) };
console.log(`raft: ${result.entriesPerSecond.toLocaleString('en-US')} entries/s committed and applied on all ${members} members (${payload.length}-byte entries, batches of ${batch})`);
console.log(JSON.stringify(result));
