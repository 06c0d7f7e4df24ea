// `process-ready [ids...]`: each node (all by default) with work carries out its Ready as the
// member loop does: send messages, persist snapshot/entries/hard state, send the after-persist
// messages, apply committed entries (configuration changes through applyConfChange), advance.
import { ConfChangeError } from '../../../src/raft/confchange/changer.ts';
import { decodeConfChange, describeConfChange } from '../../../src/raft/confchange/conf-change.ts';
import { describeReady } from '../../../src/raft/describe.ts';
import { type ConfState, type Entry, EntryType } from '../../../src/raft/messages.ts';
import type { Command } from './args.ts';
import type { ScenarioEnv, ScenarioNode } from './env.ts';

/** Handles the Ready of `node` if it has one; returns whether it had. */
export function processReady(env: ScenarioEnv, node: ScenarioNode): boolean {
  const raw = node.rawNode;
  if (!raw.hasReady()) return false;
  env.print(`> ${node.id} handling Ready`);
  const rd = raw.ready();
  for (const line of describeReady(rd).split('\n')) if (line !== '') env.print(line, 2);
  for (const m of rd.messages) env.send(m);
  if (rd.snapshot !== undefined) {
    node.storage.applySnapshot(rd.snapshot);
    node.storage.recordSnapshot(rd.snapshot);
  }
  node.storage.append(rd.entries);
  if (rd.hardState !== undefined) node.storage.setHardState(rd.hardState);
  for (const m of rd.messagesAfterPersist) env.send(m);
  for (const e of rd.committedEntries) applyEntry(env, node, e);
  raw.advance(rd);
  env.observe(node, 2);
  return true;
}

function applyEntry(env: ScenarioEnv, node: ScenarioNode, e: Entry): void {
  if (e.type !== EntryType.ConfChange) {
    node.storage.recordApplied(e.index);
    return;
  }
  const cc = decodeConfChange(e.data);
  let confState: ConfState;
  try {
    confState = node.rawNode.applyConfChange(cc);
  } catch (err) {
    if (!(err instanceof ConfChangeError)) throw err;
    const what = cc.changes.length === 0 ? 'leave-joint' : describeConfChange(cc);
    env.print(`${node.id} rejected conf change ${what}: ${err.message}`, 2);
    node.storage.recordApplied(e.index);
    return;
  }
  node.storage.recordApplied(e.index, confState);
  env.observe(node, 2);
}

/** The `process-ready` command. */
export function processReadyCommand(env: ScenarioEnv, cmd: Command): void {
  for (const id of env.idsOr(cmd.ids())) processReady(env, env.node(id));
}
