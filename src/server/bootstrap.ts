// Opening a member's data, the three ways etcd does it: a restart (the WAL exists: the
// --initial-* flags are ignored), a new cluster (--initial-cluster-state new: every member
// bootstraps the same first snapshot and membership), or joining an existing one (the membership
// and cluster id come from the other members; the key space comes later, as a snapshot).
import { existsSync } from 'node:fs';
import { Store } from '../mvcc/index.ts';
import { computeClusterId, computeMemberId } from './ids.ts';
import { fetchRemoteCluster, matchInitialCluster } from './join.ts';
import { Membership } from './membership.ts';
import { MemberError } from './errors.ts';
import type { MemberOptions } from './member.ts';
import { snapshotDbPath } from './snapshot-files.ts';
import {
  type DataDirLayout,
  type MemberInfo,
  type OpenedStorage,
  bootstrapStorage,
  dataDirLayout,
  decodeSnapshotData,
  hasWal,
  joinStorage,
  openStorage,
} from './storage.ts';

/** A member's opened data: WAL and Raft storage, the key space, the membership. */
export interface MemberData {
  storage: OpenedStorage;
  store: Store;
  membership: Membership;
}

/** Opens (or creates) the data of the member `options` describe. Closes what it opened on failure. */
export async function openMemberData(options: MemberOptions): Promise<MemberData> {
  const log = options.log ?? (() => undefined);
  const walLog = (msg: string): void => log('warn', msg);
  const layout: DataDirLayout = dataDirLayout(options.dataDir, options.walDir ?? '');
  let storage: OpenedStorage;
  /** The membership to record when the backend has none yet. */
  let seed: MemberInfo[];
  if (hasWal(layout)) {
    storage = await openStorage(layout, walLog);
    seed = decodeSnapshotData(storage.snapshot?.data ?? new Uint8Array(0)).members;
    log('info', `restarting member ${storage.identity.memberId.toString(16)} in cluster ${storage.identity.clusterId.toString(16)}`);
  } else if (options.initialClusterState === 'existing') {
    const own = new Set(options.initialAdvertisePeerUrls);
    const others = [...options.initialCluster.values()].flat().filter((u) => !own.has(u));
    const remote = await fetchRemoteCluster(others, options.peerTls);
    seed = matchInitialCluster(options.initialCluster, remote.members);
    const self = seed.find((m) => sameUrls(m.peerUrls, options.initialAdvertisePeerUrls));
    if (self === undefined) {
      throw new MemberError('bad-config', `couldn't find local name "${options.name}" in the initial cluster configuration`);
    }
    storage = await joinStorage(layout, { memberId: self.id, clusterId: remote.clusterId }, walLog);
    log('info', `joining cluster ${remote.clusterId.toString(16)} as member ${self.id.toString(16)}`);
  } else {
    seed = initialMembers(options);
    const self = seed.find((m) => m.name === options.name);
    if (self === undefined) throw new MemberError('bad-config', `couldn't find local name "${options.name}" in the initial cluster configuration`);
    const identity = { memberId: self.id, clusterId: computeClusterId(seed.map((m) => m.id)) };
    storage = await bootstrapStorage(layout, identity, seed, walLog);
    log('info', `starting member ${identity.memberId.toString(16)} in new cluster ${identity.clusterId.toString(16)}`);
  }
  const store = Store.open(layout.dbDir);
  try {
    await finishSnapshotInstall(layout, storage, store);
    const membership = new Membership(store);
    if (membership.empty) store.batch(() => seed.forEach((m) => membership.put(m)));
    if (membership.isRemoved(storage.identity.memberId)) {
      throw new MemberError('removed', 'the member has been permanently removed from the cluster');
    }
    const applied = store.consistentIndex;
    const lastIndex = storage.memory.lastIndex();
    if (applied > lastIndex && membership.list().length === 1) {
      // Replay brings the key space up to the log, never the log up to the key space: the next
      // entries would reuse the lost indexes and apply would skip them as already applied
      // (committed, never applied, never answered). Refuse, as etcd's verify does. NB: a member
      // of a larger cluster may legitimately be ahead (a follower applies entries it is still
      // persisting); the leader sends those same committed entries again and replay skips them.
      throw new Error(
        `server: cannot start from "${options.dataDir}": the key space has applied entry ${applied} ` +
          `but the WAL ends at ${lastIndex} (synced WAL records were lost); restore from a snapshot`,
      );
    }
    return { storage, store, membership };
  } catch (err) {
    await store.close();
    await storage.wal.close();
    throw err;
  }
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join(',') === [...b].sort().join(',');
}

/**
 * A member that crashed after saving a snapshot from the leader but before its database replaced
 * the key space finishes the install now (etcd's recovery from the .snap.db file).
 */
async function finishSnapshotInstall(layout: DataDirLayout, storage: OpenedStorage, store: Store): Promise<void> {
  const index = storage.snapshot?.metadata.index ?? 0;
  // NB: the bootstrap snapshot (index 1) has no database: the key space starts empty.
  if (index <= 1 || store.consistentIndex >= index) return;
  const path = snapshotDbPath(layout.snapDir, index);
  if (!existsSync(path)) {
    throw new Error(`server: the key space has applied entry ${store.consistentIndex} but the newest snapshot is at ${index} and its database ${path} is missing`);
  }
  await store.restoreFrom(path);
}

function initialMembers(options: MemberOptions): MemberInfo[] {
  const members: MemberInfo[] = [];
  for (const [name, urls] of options.initialCluster) {
    members.push({
      id: computeMemberId(urls, options.initialClusterToken),
      name,
      peerUrls: [...urls],
      // Every member bootstraps the same table: client URLs come when each member publishes them.
      clientUrls: [],
      isLearner: false,
    });
  }
  return members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

