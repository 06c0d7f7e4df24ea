// etcd's safety checks before a membership change is proposed (--strict-reconfig-check, on by
// default): never add a voter while too few members are started, never remove one while the
// rest could not form a quorum, and only promote a learner that has caught up with the leader.
// Pure: the member passes in what it knows (membership, which peers are connected since when).
import { MemberError } from './errors.ts';
import type { MemberInfo } from './storage.ts';

/** How long peers must have been connected for the cluster to count as healthy (etcd's HealthInterval). */
export const HEALTH_INTERVAL_MS = 5000;
/** A learner is ready for promotion when its match index is this share of the leader's (etcd's). */
export const LEARNER_READY_PERCENT = 0.9;
/** At most this many learners at once (etcd's maxLearners). */
export const LEARNERS_MAX = 1;

/** A refusal, named as etcd's gRPC error it becomes. */
export type ReconfigRefusal =
  | 'memberNotEnoughStarted'
  | 'unhealthy'
  | 'peerUrlExist'
  | 'memberExist'
  | 'memberNotFound'
  | 'memberNotLearner'
  | 'learnerNotReady'
  | 'tooManyLearners';

/** What the checks need to know. */
export interface ReconfigView {
  self: bigint;
  members: readonly MemberInfo[];
  /** Since when the stream to a peer has been up (undefined: down). */
  activeSince(id: bigint): Date | undefined;
  nowMs: number;
}

/** A member has started once it published its name (etcd's IsStarted). */
const started = (m: MemberInfo): boolean => m.name !== '';
const voters = (view: ReconfigView): MemberInfo[] => view.members.filter((m) => !m.isLearner);

/** Voters (other than self) connected for at least HEALTH_INTERVAL_MS, plus self. */
function connectedSince(view: ReconfigView, ids: readonly bigint[]): number {
  let n = 0;
  for (const id of ids) {
    if (id === view.self) {
      n++;
      continue;
    }
    const since = view.activeSince(id);
    if (since !== undefined && since.getTime() <= view.nowMs - HEALTH_INTERVAL_MS) n++;
  }
  return n;
}

/** etcd's mayAddMember (+ the URL and learner-count checks of ValidateConfigurationChange). */
export function checkAdd(view: ReconfigView, peerUrls: readonly string[], isLearner: boolean): ReconfigRefusal | undefined {
  const wanted = new Set(peerUrls);
  if (view.members.some((m) => m.peerUrls.some((u) => wanted.has(u)))) return 'peerUrlExist';
  if (isLearner && view.members.filter((m) => m.isLearner).length + 1 > LEARNERS_MAX) return 'tooManyLearners';
  const vs = voters(view);
  if (!isLearner) {
    const nmembers = vs.length + 1;
    const nstarted = vs.filter(started).length;
    // Adding a second member to a one-member cluster (restoring data) is allowed.
    const restoring = nstarted === 1 && nmembers === 2;
    if (!restoring && nstarted < Math.floor(nmembers / 2) + 1) return 'memberNotEnoughStarted';
  }
  if (connectedSince(view, vs.map((m) => m.id)) < vs.length) return 'unhealthy';
  return undefined;
}

/** etcd's mayRemoveMember. */
export function checkRemove(view: ReconfigView, id: bigint): ReconfigRefusal | undefined {
  const target = view.members.find((m) => m.id === id);
  if (target === undefined) return 'memberNotFound';
  if (target.isLearner) return undefined;
  const rest = voters(view).filter((m) => m.id !== id);
  if (rest.filter(started).length < Math.floor(rest.length / 2) + 1) return 'memberNotEnoughStarted';
  // A member that is down is not part of the active quorum: removing it is safe.
  if (id !== view.self && view.activeSince(id) === undefined) return undefined;
  const vs = voters(view);
  const active = connectedSince(view, vs.map((m) => m.id));
  if (active - 1 < 1 + Math.floor((vs.length - 1) / 2)) return 'unhealthy';
  return undefined;
}

/** etcd's promotion checks, on the leader: a learner, caught up with the leader's log. */
export function checkPromote(
  view: ReconfigView,
  id: bigint,
  match: { leader: number; learner: number | undefined },
): ReconfigRefusal | undefined {
  const target = view.members.find((m) => m.id === id);
  if (target === undefined) return 'memberNotFound';
  if (!target.isLearner) return 'memberNotLearner';
  if (match.learner === undefined || match.learner < match.leader * LEARNER_READY_PERCENT) return 'learnerNotReady';
  const vs = voters(view);
  const nmembers = vs.length + 1;
  const nstarted = vs.filter(started).length + (started(target) ? 1 : 0);
  if (nstarted < Math.floor(nmembers / 2) + 1) return 'memberNotEnoughStarted';
  return undefined;
}

/** The apply-time validation (deterministic on every member): what makes a change a no-op. */
export function validateAtApply(
  members: readonly MemberInfo[],
  isRemoved: (id: bigint) => boolean,
  change: { type: 'AddNode' | 'AddLearnerNode' | 'RemoveNode'; nodeId: bigint; member: MemberInfo | undefined },
): ReconfigRefusal | undefined {
  const existing = members.find((m) => m.id === change.nodeId);
  if (isRemoved(change.nodeId)) return 'memberNotFound';
  switch (change.type) {
    case 'RemoveNode':
      return existing === undefined ? 'memberNotFound' : undefined;
    case 'AddLearnerNode':
      if (existing !== undefined) return 'memberExist';
      if (members.filter((m) => m.isLearner).length + 1 > LEARNERS_MAX) return 'tooManyLearners';
      return urlsTaken(members, change.member) ? 'peerUrlExist' : undefined;
    case 'AddNode':
      // Adding an existing learner as a voter promotes it.
      if (existing !== undefined) return existing.isLearner ? undefined : 'memberExist';
      return urlsTaken(members, change.member) ? 'peerUrlExist' : undefined;
  }
}

function urlsTaken(members: readonly MemberInfo[], member: MemberInfo | undefined): boolean {
  if (member === undefined) return false;
  const wanted = new Set(member.peerUrls);
  return members.some((m) => m.id !== member.id && m.peerUrls.some((u) => wanted.has(u)));
}

/** Peer URLs of a member to add or update: http(s)://host:port, as etcd's types.NewURLs checks. */
export function checkPeerUrls(urls: readonly string[]): void {
  if (urls.length === 0) throw new MemberError('memberBadUrls');
  for (const raw of urls) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new MemberError('memberBadUrls');
    }
    const okScheme = url.protocol === 'http:' || url.protocol === 'https:';
    if (!okScheme || url.port === '' || (url.pathname !== '/' && url.pathname !== '')) throw new MemberError('memberBadUrls');
  }
}
