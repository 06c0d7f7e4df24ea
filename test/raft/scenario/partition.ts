// The network's cuts: `isolate <ids...>` cuts nodes off from all others; `partition (1) (2,3)`
// splits the cluster into groups (unlisted nodes form one more group); `heal [ids...]` restores
// the links of the given isolated nodes, or every link. Messages across a cut are dropped when
// delivered, so ones already in flight are lost too.
import type { Command } from './args.ts';
import type { ScenarioEnv } from './env.ts';

/** The `isolate` command. */
export function isolateCommand(env: ScenarioEnv, cmd: Command): void {
  for (const id of cmd.ids()) env.isolate(env.node(id).id);
}

/** The `partition` command. */
export function partitionCommand(env: ScenarioEnv, cmd: Command): void {
  env.partition(cmd.groups());
}

/** The `heal` command. */
export function healCommand(env: ScenarioEnv, cmd: Command): void {
  env.heal(cmd.ids());
}
