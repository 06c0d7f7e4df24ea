// The (pre-)candidate's handlers: count votes, yield to a leader of the same or a newer term.
import { type Message, MessageType, NONE } from '../messages.ts';
import { type Raft, CampaignType, OK, dropped } from '../raft.ts';
import { type ProposalResult, ProposalDropReason, StateRole } from '../ready.ts';

/** Handles a message as candidate or pre-candidate (after the term checks in Raft.step). */
export function stepCandidate(r: Raft, m: Message): ProposalResult {
  const myVoteResp = r.role === StateRole.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.Prop:
      return dropped(ProposalDropReason.NoLeader);
    case MessageType.ReadIndex:
      return dropped(ProposalDropReason.NoLeader);
    case MessageType.App:
      r.becomeFollower(m.term, m.from);
      r.handleAppendEntries(m);
      return OK;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      r.handleHeartbeat(m);
      return OK;
    case MessageType.Snap:
      r.becomeFollower(m.term, m.from);
      r.handleSnapshot(m);
      return OK;
    case myVoteResp: {
      const { result } = r.poll(m.from, m.reject !== true);
      if (result === 'won') {
        if (r.role === StateRole.PreCandidate) {
          r.campaign(CampaignType.Election);
        } else {
          r.becomeLeader();
          r.bcastAppend();
        }
      } else if (result === 'lost') {
        // A pre-candidate that lost stays at its term; a candidate keeps the term it moved to.
        r.becomeFollower(r.term, NONE);
      }
      return OK;
    }
    default:
      return OK;
  }
}
