// `transfer-leadership from=<id> to=<id>`: asks node `from` (normally the leader; a follower
// forwards the request) to hand leadership to `to`. The leader catches `to` up, then sends it
// TimeoutNow; proposals are refused while the transfer is in progress.
import type { Command } from './args.ts';
import type { ScenarioEnv } from './env.ts';

/** The `transfer-leadership` command. */
export function transferLeadershipCommand(env: ScenarioEnv, cmd: Command): void {
  const from = cmd.idList('from')?.[0];
  const to = cmd.idList('to')?.[0];
  if (from === undefined || to === undefined) {
    throw new Error('transfer-leadership: want from=<id> to=<id>');
  }
  const node = env.node(from);
  node.rawNode.transferLeadership(to);
  env.observe(node);
}
