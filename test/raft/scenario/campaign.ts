// `campaign <id>`: the node starts an election now (a pre-election first when PreVote is on), as
// when its election timeout passes. Prints the role change, or why the campaign was refused.
import type { Command } from './args.ts';
import type { ScenarioEnv } from './env.ts';

/** The `campaign` command. */
export function campaignCommand(env: ScenarioEnv, cmd: Command): void {
  const node = env.node(cmd.id(0));
  env.printResult(node.rawNode.campaign());
  env.observe(node);
}
