// Crashing a concord member at a failpoint (src/server/failpoints.ts): a new life with
// CONCORD_FAILPOINTS armed, then a wait until the process kills itself there, which it announces
// on stderr ("failpoint <name>: crash (hit N)") just before its SIGKILL. The caller restarts it
// clean afterwards. etcd's Debian build has no failpoints; see cluster.ts for what etcd gets.
import {
  FAILPOINT_NAMES, FAILPOINTS_ENV, type FailpointName,
} from '../../../src/server/failpoints.ts';
import type { ExitStatus, MemberProcess } from './member-process.ts';

/** How an armed life ended. */
export interface FailpointOutcome {
  /** True when the process died at the failpoint (its announcement is in the log). */
  fired: boolean;
  /** How the armed life ended (after our own SIGKILL when the failpoint never fired). */
  status: ExitStatus | undefined;
}

/** Options of `crashAtFailpoint`. */
export interface FailpointOptions {
  /** Crash at this hit of the failpoint (default 1: the first). */
  hit?: number;
  /** How long to wait for the crash before killing the process (default 15 s). */
  timeoutMs?: number;
}

/** True for a name the member calls `failpoint` with. */
export function isFailpointName(name: string): name is FailpointName {
  return (FAILPOINT_NAMES as readonly string[]).includes(name);
}

/**
 * Kills `member` if it runs, starts it with `failpoint` armed and waits until it crashes there
 * (or the bound passes: then it is killed). The member is down when this resolves.
 */
export async function crashAtFailpoint(
  member: MemberProcess, failpoint: string, options: FailpointOptions = {},
): Promise<FailpointOutcome> {
  if (!isFailpointName(failpoint)) {
    throw new Error(`chaos: no failpoint "${failpoint}"; one of ${FAILPOINT_NAMES.join(', ')}`);
  }
  const hit = options.hit ?? 1;
  await member.kill();
  const spec = hit === 1 ? `${failpoint}=crash` : `${failpoint}=crash@${hit}`;
  member.start({ env: { [FAILPOINTS_ENV]: spec } });
  let status = await member.waitForExit(options.timeoutMs ?? 15_000);
  if (status === undefined) status = await member.kill();
  const fired = member.lifeLogs().includes(`failpoint ${failpoint}: crash`);
  return { fired, status };
}
