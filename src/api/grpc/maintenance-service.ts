// etcd's Maintenance service for a member: Status, Alarm, Defragment, Hash, HashKV, Snapshot,
// MoveLeader.
import { createHash } from 'node:crypto';
import { open, rm, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Member } from '../../server/member.ts';
import { services } from '../../proto/index.ts';
import type { GrpcError, GrpcServer } from './server/index.ts';
import { EtcdErrors, etcdError, toGrpcError } from './errors.ts';
import { ETCD_SERVER_VERSION } from '../version.ts';

/** Bytes per Snapshot stream message (etcd's). */
const SNAPSHOT_CHUNK_BYTES = 32 * 1024;
const alarmNames = ['NONE', 'NOSPACE', 'CORRUPT'];

/** Registers Maintenance on `server`, served by `member`. */
export function addMaintenanceService(server: GrpcServer, member: Member): void {
  server.addService(services['etcdserverpb.Maintenance'], {
    Status: async () => {
      await member.backendOnline();
      const st = member.store.status();
      const raft = member.raftStatus();
      return {
        header: member.header(),
        version: ETCD_SERVER_VERSION,
        dbSize: st.sizeBytes,
        dbSizeInUse: st.sizeInUseBytes,
        leader: raft.leader,
        raftIndex: raft.committed,
        raftTerm: raft.term,
        raftAppliedIndex: raft.applied,
        // etcd lists "no leader" first, then the alarms.
        errors: [
          ...(raft.leader === 0n ? [EtcdErrors.noLeader[1]] : []),
          ...member.alarms().map((a) => `memberID:${a.memberId} alarm:${alarmNames[a.alarm] ?? a.alarm} `),
        ],
        isLearner: raft.isLearner,
      };
    },
    Alarm: async (req, call) => {
      // NB: etcd's AlarmResponse carries no header (its apply leaves it nil; `alarm list -w json`
      // prints `{}` on a cluster without alarms), and GET filters by alarm type only.
      if (req.action === 0) {
        const all = member.alarms();
        const alarms = all.filter((a) => req.alarm === 0 || a.alarm === req.alarm);
        return { alarms: alarms.map((a) => ({ memberID: a.memberId, alarm: a.alarm })) };
      }
      try {
        const { response } = await member.propose('alarm', req, { signal: call.signal });
        const alarms = (response as { alarms: Array<{ memberId: bigint; alarm: number }> }).alarms;
        return { alarms: alarms.map((a) => ({ memberID: a.memberId, alarm: a.alarm })) };
      } catch (err) {
        throw toGrpcError(err);
      }
    },
    Defragment: async () => {
      try {
        await member.exclusive(() => member.store.defragment());
      } catch (err) {
        throw toGrpcError(err);
      }
      return { header: member.header() };
    },
    Hash: async () => {
      await member.backendOnline();
      return { header: member.header(), hash: member.store.hashKV(0).hash };
    },
    HashKV: async (req) => {
      await member.backendOnline();
      try {
        const h = member.store.hashKV(req.revision);
        return { header: member.header(h.revision), hash: h.hash, compactRevision: h.compactRevision };
      } catch (err) {
        throw mapStoreError(err);
      }
    },
    Snapshot: async (_req, call) => {
      const dir = await mkdtemp(join(tmpdir(), 'concord-snapshot-'));
      try {
        await member.backendOnline();
        const info = await member.store.snapshot(dir);
        await streamFile(info.path, info.sizeBytes, member.header(info.revision), call);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    MoveLeader: async (req, call) => {
      try {
        await member.moveLeader(req.targetID, { signal: call.signal });
      } catch (err) {
        throw toGrpcError(err);
      }
      return { header: member.header() };
    },
  });
}

/** Streams the file in chunks, then etcd's trailer: the SHA-256 of everything sent. */
async function streamFile(
  path: string,
  size: number,
  header: ReturnType<Member['header']>,
  call: { send(msg: { header: typeof header; remainingBytes: number; blob: Uint8Array }): Promise<void>; signal: AbortSignal },
): Promise<void> {
  const hash = createHash('sha256');
  const file = await open(path, 'r');
  try {
    let sent = 0;
    while (sent < size && !call.signal.aborted) {
      const buf = Buffer.allocUnsafe(Math.min(SNAPSHOT_CHUNK_BYTES, size - sent));
      const { bytesRead } = await file.read(buf, 0, buf.length, sent);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      sent += bytesRead;
      // remainingBytes counts what is left after this chunk, including the checksum's message.
      await call.send({ header, remainingBytes: size - sent + 32, blob: chunk });
    }
    await call.send({ header, remainingBytes: 0, blob: hash.digest() });
  } finally {
    await file.close();
  }
}

function mapStoreError(err: unknown): GrpcError {
  const code = (err as { code?: string }).code;
  if (code === 'compacted') return etcdError('compacted');
  if (code === 'future-revision') return etcdError('futureRev');
  return toGrpcError(err);
}
