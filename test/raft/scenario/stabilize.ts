// `stabilize [ids...]`: alternates handling every node's Ready and delivering every waiting
// message until nothing is left to do (only among `ids` when given). A run that never settles is
// a livelock in the core or the script, and fails.
import type { Command } from './args.ts';
import { deliverMsgs } from './deliver-msgs.ts';
import type { ScenarioEnv } from './env.ts';
import { processReady } from './process-ready.ts';

const ROUNDS_MAX = 1000;

/** Runs until quiet. */
export function stabilize(env: ScenarioEnv, ids: readonly bigint[]): void {
  for (let round = 0; round < ROUNDS_MAX; round++) {
    let busy = false;
    for (const id of env.idsOr(ids)) if (processReady(env, env.node(id))) busy = true;
    for (const id of env.idsOr(ids)) if (deliverMsgs(env, id)) busy = true;
    if (!busy) return;
  }
  throw new Error(`stabilize: still busy after ${ROUNDS_MAX} rounds`);
}

/** The `stabilize` command. */
export function stabilizeCommand(env: ScenarioEnv, cmd: Command): void {
  stabilize(env, cmd.ids());
}
