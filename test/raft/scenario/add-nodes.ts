// `add-nodes N [voters=(1,2,3)] [learners=(4)] [index=2] [prevote=true] [checkquorum=true] ...`:
// adds N nodes with the next free ids. With voters, each starts from a snapshot at `index` (term 1)
// listing them, as a bootstrapped member does; without, it starts empty, as a member about to join.
import { ReadOnlyOption } from '../../../src/raft/config.ts';
import { emptyConfState } from '../../../src/raft/messages.ts';
import type { Command } from './args.ts';
import { type NodeOptions, type ScenarioEnv, defaultNodeOptions } from './env.ts';
import { ScenarioStorage } from './storage.ts';

function optionsOf(cmd: Command): NodeOptions {
  const d = defaultNodeOptions;
  const readOnly = cmd.str('read-only', d.readOnlyOption);
  if (readOnly !== ReadOnlyOption.Safe && readOnly !== ReadOnlyOption.LeaseBased) {
    throw new Error(`add-nodes: read-only must be safe or lease-based, got ${readOnly}`);
  }
  return {
    electionTicks: cmd.int('election', d.electionTicks),
    heartbeatTicks: cmd.int('heartbeat', d.heartbeatTicks),
    preVote: cmd.bool('prevote', d.preVote),
    checkQuorum: cmd.bool('checkquorum', d.checkQuorum),
    readOnlyOption: readOnly,
    msgBytesMax: cmd.int('max-msg-bytes', d.msgBytesMax),
    inflightMsgsMax: cmd.int('max-inflight', d.inflightMsgsMax),
    uncommittedBytesMax: cmd.int('max-uncommitted-bytes', d.uncommittedBytesMax),
    disableProposalForwarding: cmd.bool('disable-forwarding', d.disableProposalForwarding),
  };
}

/** The `add-nodes` command. */
export function addNodesCommand(env: ScenarioEnv, cmd: Command): void {
  const count = cmd.intArg(0);
  const voters = cmd.idList('voters');
  const learners = cmd.idList('learners') ?? [];
  const index = cmd.int('index', 1);
  const options = optionsOf(cmd);
  let next = env.ids().reduce((max, id) => (id > max ? id : max), 0n) + 1n;
  for (let i = 0; i < count; i++, next++) {
    const storage = new ScenarioStorage();
    if (voters !== undefined) {
      const confState = { ...emptyConfState(), voters, learners };
      storage.applySnapshot({ data: new Uint8Array(0), metadata: { index, term: 1, confState } });
    }
    env.install(next, storage, options, 'started');
  }
}
