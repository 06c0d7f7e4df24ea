// Human-readable one-line descriptions of the core's values, for traces, logs and the scenario
// tests (their expected outputs are these strings, so keep the format stable).
import { decodeConfChange, describeConfChange } from './confchange/conf-change.ts';
import type { ConfState, Entry, HardState, Message, Snapshot } from './messages.ts';
import type { Ready, SoftState } from './ready.ts';

const decoder = new TextDecoder('utf-8', { fatal: false });

function ids(list: readonly bigint[]): string {
  return `(${list.join(' ')})`;
}

/** Entry data as text when printable, else as hex. */
export function describeData(data: Uint8Array): string {
  const text = decoder.decode(data);
  if (/^[\x20-\x7e]*$/.test(text)) return JSON.stringify(text);
  let hex = '';
  for (const b of data) hex += b.toString(16).padStart(2, '0');
  return `0x${hex}`;
}

/** `term/index kind data`, e.g. `2/11 "put a"` or `2/12 conf v4`. */
export function describeEntry(e: Entry): string {
  if (e.type === 'ConfChange') {
    let body: string;
    try {
      body = e.data.length === 0 ? 'leave-joint' : describeConfChange(decodeConfChange(e.data)) || 'leave-joint';
    } catch {
      body = `invalid ${describeData(e.data)}`;
    }
    return `${e.term}/${e.index} conf ${body}`;
  }
  return `${e.term}/${e.index} ${e.data.length === 0 ? 'noop' : describeData(e.data)}`;
}

export function describeEntries(entries: readonly Entry[]): string {
  return `[${entries.map(describeEntry).join(', ')}]`;
}

export function describeConfState(cs: ConfState): string {
  let s = `voters=${ids(cs.voters)}`;
  if (cs.votersOutgoing.length > 0) s += `&&${ids(cs.votersOutgoing)}`;
  if (cs.learners.length > 0) s += ` learners=${ids(cs.learners)}`;
  if (cs.learnersNext.length > 0) s += ` learners_next=${ids(cs.learnersNext)}`;
  if (cs.autoLeave) s += ' autoleave';
  return s;
}

export function describeSnapshot(s: Snapshot): string {
  return `index=${s.metadata.index} term=${s.metadata.term} ${describeConfState(s.metadata.confState)}`;
}

export function describeHardState(hs: HardState): string {
  return `term=${hs.term} vote=${hs.vote} commit=${hs.commit}`;
}

export function describeSoftState(ss: SoftState): string {
  return `lead=${ss.lead} role=${ss.role}`;
}

/** `from->to Type term=T ...` with only the fields the kind uses. */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  if (m.reject === true) s += ` reject hint=${m.rejectHint ?? 0}`;
  if (m.logTerm !== undefined || m.index !== undefined) s += ` log=${m.logTerm ?? 0}/${m.index ?? 0}`;
  if (m.commit !== undefined) s += ` commit=${m.commit}`;
  if (m.context !== undefined && m.context.length > 0) s += ` context=${describeData(m.context)}`;
  if (m.entries !== undefined && m.entries.length > 0) s += ` entries=${describeEntries(m.entries)}`;
  if (m.snapshot !== undefined) s += ` snapshot={${describeSnapshot(m.snapshot)}}`;
  return s;
}

/** A multi-line description of a Ready. */
export function describeReady(rd: Ready): string {
  const lines: string[] = [];
  if (rd.softState !== undefined) lines.push(describeSoftState(rd.softState));
  if (rd.hardState !== undefined) lines.push(`HardState ${describeHardState(rd.hardState)}`);
  if (rd.snapshot !== undefined) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  if (rd.entries.length > 0) lines.push(`Entries: ${rd.entries.map(describeEntry).join(', ')}`);
  if (rd.committedEntries.length > 0) lines.push(`CommittedEntries: ${rd.committedEntries.map(describeEntry).join(', ')}`);
  for (const m of rd.messages) lines.push(describeMessage(m));
  for (const m of rd.messagesAfterPersist) lines.push(`${describeMessage(m)} (after persist)`);
  for (const rs of rd.readStates) lines.push(`ReadState index=${rs.index} context=${describeData(rs.context)}`);
  if (rd.mustSync) lines.push('MustSync');
  return lines.join('\n');
}
