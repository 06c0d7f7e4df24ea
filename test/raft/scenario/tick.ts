// Time: `tick <id> <n>` ticks a node n times; `tick-heartbeat <ids...>` ticks each one heartbeat
// interval; `tick-election <ids...>` ticks each until its election timer fires — a follower or
// candidate campaigns (at its randomized timeout, drawn from the id-seeded rng), a leader runs its
// CheckQuorum round — or 2×electionTicks have passed (a learner never campaigns).
import type { Command } from './args.ts';
import type { ScenarioEnv, ScenarioNode } from './env.ts';

function tickOnce(env: ScenarioEnv, node: ScenarioNode): void {
  node.rawNode.tick();
  env.observe(node);
}

/** Ticks until the election timer of `node` fires; returns the number of ticks. */
export function tickElection(env: ScenarioEnv, node: ScenarioNode): number {
  const limit = 2 * node.options.electionTicks;
  for (let n = 1; n <= limit; n++) {
    tickOnce(env, node);
    if (node.rawNode.raft.electionElapsed === 0) return n;
  }
  return limit;
}

/** The `tick` command. */
export function tickCommand(env: ScenarioEnv, cmd: Command): void {
  const node = env.node(cmd.id(0));
  const count = cmd.intArg(1);
  for (let i = 0; i < count; i++) tickOnce(env, node);
}

/** The `tick-heartbeat` command. */
export function tickHeartbeatCommand(env: ScenarioEnv, cmd: Command): void {
  for (const id of cmd.ids()) {
    const node = env.node(id);
    for (let i = 0; i < node.options.heartbeatTicks; i++) tickOnce(env, node);
  }
}

/** The `tick-election` command. */
export function tickElectionCommand(env: ScenarioEnv, cmd: Command): void {
  for (const id of cmd.ids()) tickElection(env, env.node(id));
}
