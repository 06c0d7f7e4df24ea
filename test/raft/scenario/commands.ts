// The scenario commands by name. Each lives in its own file; a handler reads its arguments from
// the Command and prints to the environment.
import { addNodesCommand } from './add-nodes.ts';
import type { Command } from './args.ts';
import { campaignCommand } from './campaign.ts';
import { compactCommand } from './compact.ts';
import { deliverMsgsCommand, dropMsgsCommand } from './deliver-msgs.ts';
import type { ScenarioEnv } from './env.ts';
import { healCommand, isolateCommand, partitionCommand } from './partition.ts';
import { processReadyCommand } from './process-ready.ts';
import { proposeConfChangeCommand } from './propose-conf-change.ts';
import { proposeCommand } from './propose.ts';
import { raftLogCommand } from './raft-log.ts';
import { readIndexCommand } from './read-index.ts';
import { restartCommand } from './restart.ts';
import { stabilizeCommand } from './stabilize.ts';
import { raftStateCommand, statusCommand } from './status.ts';
import { tickCommand, tickElectionCommand, tickHeartbeatCommand } from './tick.ts';
import { transferLeadershipCommand } from './transfer-leadership.ts';

/** A command handler. */
export type CommandHandler = (env: ScenarioEnv, cmd: Command) => void;

/**
 * Every command a script may use (ids are node ids; `[...]` optional):
 *   add-nodes N [voters=(..) learners=(..) index= prevote= checkquorum= election= heartbeat=
 *     read-only= max-inflight= max-msg-bytes= max-uncommitted-bytes= disable-forwarding=]
 *   campaign id | propose id data | propose-conf-change id [transition=] + input `v4 l5 r2`
 *   read-index id context | transfer-leadership from=id to=id
 *   process-ready [ids] | deliver-msgs [ids] [type=(..) from=(..)] | drop-msgs (same)
 *   stabilize [ids]
 *   tick id n | tick-heartbeat ids | tick-election ids
 *   isolate ids | partition (ids) (ids).. | heal [ids] | restart ids | compact id index
 *   status ids | raft-state | raft-log ids
 */
export const commands: ReadonlyMap<string, CommandHandler> = new Map<string, CommandHandler>([
  ['add-nodes', addNodesCommand],
  ['campaign', campaignCommand],
  ['compact', compactCommand],
  ['deliver-msgs', deliverMsgsCommand],
  ['drop-msgs', dropMsgsCommand],
  ['heal', healCommand],
  ['isolate', isolateCommand],
  ['partition', partitionCommand],
  ['process-ready', processReadyCommand],
  ['propose', proposeCommand],
  ['propose-conf-change', proposeConfChangeCommand],
  ['raft-log', raftLogCommand],
  ['raft-state', raftStateCommand],
  ['read-index', readIndexCommand],
  ['restart', restartCommand],
  ['stabilize', stabilizeCommand],
  ['status', statusCommand],
  ['tick', tickCommand],
  ['tick-election', tickElectionCommand],
  ['tick-heartbeat', tickHeartbeatCommand],
  ['transfer-leadership', transferLeadershipCommand],
]);
