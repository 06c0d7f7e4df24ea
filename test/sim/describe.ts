// Short renderings of messages and configurations for the simulator's traces.
import type { ConfState, Message } from '../../src/raft/messages.ts';

/** `1->2 App t3 i5/2 n3 c4`: sender, receiver, kind, term and the fields the kind uses. */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} t${m.term}`;
  if (m.index !== undefined) s += ` i${m.index}/${m.logTerm ?? '-'}`;
  if (m.entries !== undefined && m.entries.length > 0) {
    const first = m.entries[0]!;
    s += ` n${m.entries.length}@${first.index}`;
  }
  if (m.commit !== undefined) s += ` c${m.commit}`;
  if (m.reject === true) s += ` reject(hint ${m.rejectHint ?? '-'})`;
  if (m.snapshot !== undefined) s += ` snap ${m.snapshot.metadata.index}/${m.snapshot.metadata.term}`;
  return s;
}

/** `voters=(1 2 3)&&(1 2) learners=(4)`. */
export function describeConfState(cs: ConfState): string {
  const list = (ids: readonly bigint[]): string => `(${ids.join(' ')})`;
  let s = `voters=${list(cs.voters)}`;
  if (cs.votersOutgoing.length > 0) s += `&&${list(cs.votersOutgoing)}`;
  if (cs.learners.length > 0) s += ` learners=${list(cs.learners)}`;
  if (cs.learnersNext.length > 0) s += ` learnersNext=${list(cs.learnersNext)}`;
  if (cs.autoLeave) s += ' autoLeave';
  return s;
}
