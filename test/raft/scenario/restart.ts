// `restart <id>`: the node crashes and comes back from its MemoryStorage: hard state, snapshot and
// persisted entries survive; role, leader, progress, votes of an election in progress, and any
// unhandled Ready are lost. It starts as a follower and re-applies committed entries after its
// snapshot (configuration changes included), as a member replaying its WAL does.
import type { Command } from './args.ts';
import type { ScenarioEnv } from './env.ts';

/** The `restart` command. */
export function restartCommand(env: ScenarioEnv, cmd: Command): void {
  for (const id of cmd.ids()) {
    const node = env.node(id);
    env.install(id, node.storage, node.options, 'restarted');
  }
}
