// `read-index <id> <context>`: asks a node for a read index. The ReadState (index and context)
// shows up in a later Ready of that node: at once on a single-node leader, after a heartbeat round
// on a leader, through the leader on a follower. Prints why it was dropped, if it was.
import type { Command } from './args.ts';
import type { ScenarioEnv } from './env.ts';

/** The `read-index` command. */
export function readIndexCommand(env: ScenarioEnv, cmd: Command): void {
  const node = env.node(cmd.id(0));
  env.printResult(node.rawNode.readIndex(new TextEncoder().encode(cmd.arg(1))));
  env.observe(node);
}
