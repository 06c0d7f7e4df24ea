// `compact <id> <index>`: the node takes a snapshot at `index` (which it must have applied, with
// the configuration of then) and drops the log before it, as a member does to bound its log.
// A follower that then needs a compacted entry gets the snapshot instead. Prints the new log.
import type { Command } from './args.ts';
import type { ScenarioEnv } from './env.ts';
import { printRaftLog } from './raft-log.ts';

/** The `compact` command. */
export function compactCommand(env: ScenarioEnv, cmd: Command): void {
  const id = cmd.id(0);
  const index = cmd.intArg(1);
  const node = env.node(id);
  const applied = node.storage.appliedIndex();
  if (index > applied) {
    throw new Error(`compact: ${id} has applied only up to ${applied}, not ${index}`);
  }
  const data = new TextEncoder().encode(`snapshot@${index}`);
  node.storage.createSnapshot(index, node.storage.confStateAt(index), data);
  node.storage.compact(index);
  printRaftLog(env, id);
}
