// `propose <id> <data>`: proposes application data on a node (a follower forwards it to the
// leader). Prints why it was dropped, if it was; the entry shows up in the next Ready.
import type { Command } from './args.ts';
import type { ScenarioEnv } from './env.ts';

/** The `propose` command. */
export function proposeCommand(env: ScenarioEnv, cmd: Command): void {
  const node = env.node(cmd.id(0));
  env.printResult(node.rawNode.propose(new TextEncoder().encode(cmd.arg(1))));
  env.observe(node);
}
