// Names of everything a test network creates, all carrying one run-specific tag so that parallel
// runs never collide and leftovers of a dead run can be found and removed (sweep.ts).
//
//   tag        cx<owner pid, base 36, 5 chars><3 random base-36 chars>     e.g. cx002s1k7q9
//   namespace  <tag>-<member name>                                          cx002s1k7q9-m1
//   bridge     <tag>b          host end of a member's veth  <tag>h<index>  (Linux allows 15 chars)
//   lock file  /run/concord-chaos/subnet-<a>.<b>.<c>   holding the tag that uses 10.77.<c>.0/24
import { randomInt } from 'node:crypto';

/** What every tag starts with; nothing else this project creates does. */
export const TAG_PREFIX = 'cx';
/** Matches a tag at the start of a name; group 1 is the owner's pid in base 36. */
export const TAG_PATTERN = /^cx([0-9a-z]{5})[0-9a-z]{3}/;
/** Where subnet locks live (a tmpfs: a reboot forgets them, as it forgets namespaces). */
export const LOCK_DIR = '/run/concord-chaos';

const PID_DIGITS = 5;
/** Linux's limit on an interface name (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;

/** A fresh tag owned by this process. */
export function newTag(): string {
  const pid = process.pid.toString(36).padStart(PID_DIGITS, '0');
  let suffix = '';
  for (let i = 0; i < 3; i++) suffix += randomInt(36).toString(36);
  return `${TAG_PREFIX}${pid}${suffix}`;
}

/** The tag at the start of `name`, if any. */
export function tagOf(name: string): string | undefined {
  return TAG_PATTERN.exec(name)?.[0];
}

/** The pid of the process that created `tag`. */
export function tagOwner(tag: string): number {
  const match = TAG_PATTERN.exec(tag);
  if (match === null) throw new Error(`chaos: "${tag}" is not a network tag`);
  return Number.parseInt(match[1]!, 36);
}

/** True while a process with this pid exists (ours or anyone's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the run that made `tag` is over: its owner process is gone. */
export function isStale(tag: string): boolean {
  return !isAlive(tagOwner(tag));
}

/** The namespace of one member. */
export function namespaceName(tag: string, member: string): string {
  return `${tag}-${member}`;
}

/** The bridge joining the members (in the root namespace). */
export function bridgeName(tag: string): string {
  return checkIfname(`${tag}b`);
}

/** The root-namespace end of member `index`'s veth pair. */
export function hostVethName(tag: string, index: number): string {
  return checkIfname(`${tag}h${index}`);
}

function checkIfname(name: string): string {
  if (name.length > IFNAME_MAX) throw new Error(`chaos: interface name "${name}" is too long`);
  return name;
}
