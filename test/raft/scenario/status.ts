// `status <id>`: one node in detail (hard state, role, configuration, and on a leader every
// peer's progress in etcd's format). `raft-state`: one line per node, for a quick look at who
// leads, and in which term, and what is cut off.
import { describeConfState, describeHardState } from '../../../src/raft/describe.ts';
import { NONE } from '../../../src/raft/messages.ts';
import type { Command } from './args.ts';
import type { ScenarioEnv } from './env.ts';

/** The `status` command. */
export function statusCommand(env: ScenarioEnv, cmd: Command): void {
  for (const id of cmd.ids()) {
    const node = env.node(id);
    const st = node.rawNode.status();
    const r = node.rawNode.raft;
    const ss = st.softState;
    const hs = describeHardState(st.hardState);
    env.print(`${id}: ${ss.role} lead=${ss.lead} ${hs} applied=${st.applied} last=${st.lastIndex}`);
    env.print(describeConfState(st.confState), 2);
    if (st.leadTransferee !== NONE) env.print(`transferring leadership to ${st.leadTransferee}`, 2);
    if (st.softState.role !== 'Leader') continue;
    r.tracker.visit((peer, pr) => env.print(`${peer}: ${pr.describe()}`, 2));
  }
}

/** The `raft-state` command. */
export function raftStateCommand(env: ScenarioEnv, _cmd: Command): void {
  for (const id of env.ids()) {
    const st = env.node(id).rawNode.status();
    const hs = st.hardState;
    const ss = st.softState;
    const cut = env.cutLabel(id);
    const log = `commit=${hs.commit} last=${st.lastIndex}`;
    env.print(`${id}: ${ss.role} term=${hs.term} lead=${ss.lead} ${log}${cut}`);
  }
}
