// `propose-conf-change <id> [transition=auto|implicit|explicit]` with the changes on the input
// line (`v4 l5 r2`: add voter 4, add learner 5, remove 2). No changes proposes leaving a joint
// configuration. Prints why it was dropped, if it was.
import { confChangeFromString } from '../../../src/raft/confchange/conf-change.ts';
import type { Command } from './args.ts';
import type { ScenarioEnv } from './env.ts';

/** The `propose-conf-change` command. */
export function proposeConfChangeCommand(env: ScenarioEnv, cmd: Command): void {
  const node = env.node(cmd.id(0));
  const transition = cmd.str('transition', 'auto');
  const cc = confChangeFromString(`${cmd.input.join(' ')} transition=${transition}`);
  env.printResult(node.rawNode.proposeConfChange(cc));
  env.observe(node);
}
