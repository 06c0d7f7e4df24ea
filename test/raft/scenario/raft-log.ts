// `raft-log <id>`: the node's persisted log (its MemoryStorage): the snapshot it starts from, if
// any, then every entry. Entries still in an unhandled Ready are not shown: they are not durable.
import { describeEntry } from '../../../src/raft/describe.ts';
import type { NodeId } from '../../../src/raft/messages.ts';
import type { Command } from './args.ts';
import type { ScenarioEnv } from './env.ts';

/** Prints the persisted log of node `id`. */
export function printRaftLog(env: ScenarioEnv, id: NodeId): void {
  const storage = env.node(id).storage;
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  if (first > 1) {
    const snap = storage.storedSnapshot().metadata;
    env.print(`snapshot index=${snap.index} term=${snap.term}`);
  }
  if (last < first) {
    env.print('no entries');
    return;
  }
  const entries = storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER);
  for (const e of entries) env.print(describeEntry(e));
}

/** The `raft-log` command. */
export function raftLogCommand(env: ScenarioEnv, cmd: Command): void {
  for (const id of cmd.ids()) printRaftLog(env, id);
}
