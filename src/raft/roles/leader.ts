// The leader's handlers: proposals, ReadIndex, heartbeats, CheckQuorum, replication responses,
// snapshot status, unreachable peers, leadership transfer. One short handler per message type.
import { decodeConfChange, leavesJoint } from '../confchange/conf-change.ts';
import { type Entry, type Message, EntryType, MessageType, NONE } from '../messages.ts';
import { type Raft, OK, dropped, readIndexQuorum, sendReadIndexResponse } from '../raft.ts';
import { type ProposalResult, ProposalDropReason, StateRole } from '../ready.ts';
import { ProgressState, type Progress } from '../tracker/progress.ts';
import { ReadOnlyOption } from '../config.ts';

/** Handles a message as leader (after the term checks in Raft.step). */
export function stepLeader(r: Raft, m: Message): ProposalResult {
  switch (m.type) {
    case MessageType.Beat:
      r.bcastHeartbeat();
      return OK;
    case MessageType.CheckQuorum:
      return checkQuorum(r);
    case MessageType.Prop:
      return propose(r, m);
    case MessageType.ReadIndex:
      return readIndex(r, m);
    default:
      break;
  }
  // Everything else comes from a peer we track.
  const pr = r.tracker.progress.get(m.from);
  if (pr === undefined) return OK;
  switch (m.type) {
    case MessageType.AppResp:
      onAppendResponse(r, m, pr);
      break;
    case MessageType.HeartbeatResp:
      onHeartbeatResponse(r, m, pr);
      break;
    case MessageType.SnapStatus:
      if (pr.state !== ProgressState.Snapshot) break;
      if (m.reject === true) pr.pendingSnapshot = 0;
      pr.becomeProbe();
      // Wait for a heartbeat response before probing: the snapshot may still be in flight.
      pr.msgAppFlowPaused = true;
      break;
    case MessageType.Unreachable:
      // Optimistic replication to an unreachable peer wastes messages: probe instead.
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      break;
    case MessageType.TransferLeader:
      transferLeader(r, m, pr);
      break;
    default:
      break;
  }
  return OK;
}

function checkQuorum(r: Raft): ProposalResult {
  if (!r.tracker.quorumActive()) {
    // Not heard from a quorum within an election timeout: another leader may exist.
    r.becomeFollower(r.term, NONE);
  }
  // Everyone but us must prove activity again before the next check.
  r.tracker.visit((id, pr) => {
    if (id !== r.id) pr.recentActive = false;
  });
  return OK;
}

function propose(r: Raft, m: Message): ProposalResult {
  // Our own copies: the leader stamps term and index on them, and the message's entries may be
  // shared (a forwarded proposal delivered twice, or still referenced by its sender).
  const entries = (m.entries ?? []).map((e) => ({ ...e }));
  if (entries.length === 0) return OK;
  if (!r.tracker.progress.has(r.id)) return dropped(ProposalDropReason.NotMember);
  if (r.leadTransferee !== NONE) return dropped(ProposalDropReason.TransferInProgress);
  const local = m.from === r.id;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.type !== EntryType.ConfChange) continue;
    const refusal = confChangeRefusal(r, e);
    if (refusal === undefined) {
      r.pendingConfIndex = r.log.lastIndex() + i + 1;
      continue;
    }
    // A local proposer hears why; a forwarded one sees its entry turn into a no-op (as etcd).
    if (local && entries.length === 1) return dropped(refusal);
    entries[i] = { term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) };
  }
  if (!r.appendEntries(entries)) return dropped(ProposalDropReason.UncommittedLimit);
  r.bcastAppend();
  return OK;
}

function confChangeRefusal(r: Raft, e: Entry): ProposalDropReason | undefined {
  const alreadyPending = r.pendingConfIndex > r.log.applied;
  const alreadyJoint = r.tracker.config.voters.outgoing.size > 0;
  let cc;
  try {
    cc = e.data.length === 0 ? undefined : decodeConfChange(e.data);
  } catch {
    return ProposalDropReason.InvalidConfChange;
  }
  const wantsLeaveJoint = cc === undefined || leavesJoint(cc);
  if (alreadyPending) return ProposalDropReason.ConfChangePending;
  if (alreadyJoint && !wantsLeaveJoint) return ProposalDropReason.ConfChangePending;
  if (!alreadyJoint && wantsLeaveJoint) return ProposalDropReason.InvalidConfChange;
  if (cc !== undefined && r.validateConfChange(cc) !== undefined) return ProposalDropReason.InvalidConfChange;
  return undefined;
}

function readIndex(r: Raft, m: Message): ProposalResult {
  if (r.tracker.isSingleton()) {
    const resp = r.responseToReadIndex(m, r.log.committed);
    if (resp !== undefined) r.send(resp);
    return OK;
  }
  // Until this leader commits an entry of its term, its commit index may be behind (§6.4).
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndexMessages.push(m);
    return OK;
  }
  sendReadIndexResponse(r, m);
  return OK;
}

function onAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  const index = m.index ?? 0;
  if (m.reject === true) {
    let nextProbe = m.rejectHint ?? 0;
    if ((m.logTerm ?? 0) > 0) {
      // The follower told us the term at its hint: skip all our entries of higher terms at once.
      nextProbe = r.log.findConflictByTerm(m.rejectHint ?? 0, m.logTerm ?? 0).index;
    }
    if (pr.maybeDecrTo(index, nextProbe)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      r.sendAppend(m.from);
    }
    return;
  }
  const updated = pr.maybeUpdate(index);
  if (!updated && !(pr.match === index && pr.state === ProgressState.Probe)) return;
  if (pr.state === ProgressState.Probe) {
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= r.log.firstIndex()) {
    // The follower caught up past our compaction point (from the snapshot or otherwise).
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Replicate) {
    pr.inflights.freeLE(index);
  }
  if (r.maybeCommit()) {
    r.releasePendingReadIndexMessages();
    r.bcastAppend();
  } else if (m.from !== r.id && pr.canBumpCommit(r.log.committed)) {
    // This follower acked after the entry committed: tell it now, not at the next heartbeat.
    r.sendAppend(m.from);
  }
  if (m.from !== r.id) {
    // Flow control may have opened: send as much as it allows.
    while (r.maybeSendAppend(m.from, false)) {
      // keep sending
    }
  }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) r.sendTimeoutNow(m.from);
}

function onHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.msgAppFlowPaused = false;
  if (pr.match < r.log.lastIndex() || pr.state === ProgressState.Probe) r.sendAppend(m.from);
  if (r.readOnly.option !== ReadOnlyOption.Safe || m.context === undefined || m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined || !readIndexQuorum(r, acks)) return;
  for (const status of r.readOnly.advance(m.context)) {
    const resp = r.responseToReadIndex(status.request, status.index);
    if (resp !== undefined) r.send(resp);
  }
}

function transferLeader(r: Raft, m: Message, pr: Progress): void {
  if (pr.isLearner) return;
  const transferee = m.from;
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === transferee) return;
    r.abortLeaderTransfer();
  }
  if (transferee === r.id || r.role !== StateRole.Leader) return;
  // The transfer must finish within one election timeout.
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.log.lastIndex()) r.sendTimeoutNow(transferee);
  else r.sendAppend(transferee);
}
