// `deliver-msgs [ids...] [type=App]`: steps the messages waiting for each node (all nodes by
// default; only those of the given type when `type=` is set) in send order. Messages across a
// cut link are dropped and printed as such. `drop-msgs [ids...] [type=...]` discards them.
import { describeMessage } from '../../../src/raft/describe.ts';
import type { Message, NodeId } from '../../../src/raft/messages.ts';
import type { Command } from './args.ts';
import type { ScenarioEnv } from './env.ts';

/** Which messages a command selects. */
export type MessageFilter = (m: Message) => boolean;

function filterOf(cmd: Command): MessageFilter {
  const types = cmd.list('type');
  const from = cmd.idList('from');
  const typeOk = (m: Message): boolean => types === undefined || types.includes(m.type);
  const fromOk = (m: Message): boolean => from === undefined || from.includes(m.from);
  return (m) => typeOk(m) && fromOk(m);
}

/** Delivers the selected messages waiting for `to`; returns whether there were any. */
export function deliverMsgs(
  env: ScenarioEnv,
  to: NodeId,
  keep: MessageFilter = () => true,
): boolean {
  const node = env.nodes.get(to);
  if (node === undefined) return false;
  const msgs = env.takeMessages(to, keep);
  if (msgs.length === 0) return false;
  env.print(`> ${to} receiving messages`);
  for (const m of msgs) {
    if (!env.connected(m.from, m.to)) {
      env.print(`${describeMessage(m)} DROPPED`, 2);
      continue;
    }
    env.print(describeMessage(m), 2);
    env.printResult(node.rawNode.step(m), 2);
    env.observe(node, 2);
  }
  return true;
}

/** The `deliver-msgs` command. */
export function deliverMsgsCommand(env: ScenarioEnv, cmd: Command): void {
  const keep = filterOf(cmd);
  for (const id of env.idsOr(cmd.ids())) deliverMsgs(env, id, keep);
}

/** The `drop-msgs` command: the selected messages are lost on the wire. */
export function dropMsgsCommand(env: ScenarioEnv, cmd: Command): void {
  const keep = filterOf(cmd);
  for (const id of env.idsOr(cmd.ids())) {
    for (const m of env.takeMessages(id, keep)) env.print(`dropped ${describeMessage(m)}`);
  }
}
