// The follower's handlers: forward proposals and reads to the leader, accept appends, heartbeats
// and snapshots, campaign at once on TimeoutNow (leadership transfer).
import { type Message, MessageType, NONE } from '../messages.ts';
import { type Raft, CampaignType, OK, dropped } from '../raft.ts';
import { type ProposalResult, ProposalDropReason } from '../ready.ts';

/** Handles a message as follower (after the term checks in Raft.step). */
export function stepFollower(r: Raft, m: Message): ProposalResult {
  switch (m.type) {
    case MessageType.Prop:
      if (r.lead === NONE) return dropped(ProposalDropReason.NoLeader);
      if (r.disableProposalForwarding) return dropped(ProposalDropReason.ForwardingDisabled);
      r.send({ ...m, to: r.lead, term: 0 });
      return OK;
    case MessageType.App:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleAppendEntries(m);
      return OK;
    case MessageType.Heartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleHeartbeat(m);
      return OK;
    case MessageType.Snap:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleSnapshot(m);
      return OK;
    case MessageType.TransferLeader:
      if (r.lead === NONE) return dropped(ProposalDropReason.NoLeader);
      r.send({ ...m, to: r.lead, term: 0 });
      return OK;
    case MessageType.TimeoutNow:
      // A transfer never needs a pre-vote: we know the leader is alive and wants us to win.
      return r.hup(CampaignType.Transfer);
    case MessageType.ReadIndex:
      if (r.lead === NONE) return dropped(ProposalDropReason.NoLeader);
      r.send({ ...m, to: r.lead, term: 0 });
      return OK;
    case MessageType.ReadIndexResp:
      if (m.entries?.length !== 1) return OK;
      r.readStates.push({ index: m.index ?? 0, context: m.entries[0]!.data });
      return OK;
    default:
      return OK;
  }
}
