// The `--help` text, rendered from the flag table so it cannot drift from what is parsed. It
// follows etcd's layout (usage lines, then flags by section with their defaults) and marks flags
// Concord accepts but does not honour yet.
import { DEFAULT_NOTES, FLAGS, defaultOf } from './flags.ts';
import type { FlagSpec } from './flags.ts';

const USAGE = `Usage:

  concord [flags]
    Start a Concord server (an etcd-compatible member).

  concord --version
    Show the version of Concord and the etcd version it is compatible with.

  concord -h | --help
    Show the help information about Concord.

  concord --config-file
    Path to the server configuration file. Note that if a configuration file is provided, other
    command line flags and environment variables will be ignored.

Every flag can also be given as an environment variable: --initial-cluster-token becomes
ETCD_INITIAL_CLUSTER_TOKEN. A flag on the command line and its variable together is an error.
`;

/** The full help text, as `concord --help` prints it (to stdout, exit 0, as etcd does). */
export function helpText(): string {
  const sections = new Map<string, FlagSpec[]>();
  for (const spec of FLAGS) {
    if (spec.kind === 'ignored') continue;
    const list = sections.get(spec.group) ?? [];
    list.push(spec);
    sections.set(spec.group, list);
  }
  const parts = [USAGE];
  for (const [group, specs] of sections) {
    parts.push(`\n${group}:`);
    for (const spec of specs) parts.push(flagHelp(spec));
  }
  return `${parts.join('\n')}\n`;
}

function flagHelp(spec: FlagSpec): string {
  const def = defaultOf(spec);
  let text = `  --${spec.name} '${def}'\n    ${spec.usage}`;
  const note = DEFAULT_NOTES[spec.name];
  if (note !== undefined) text += `\n    [Concord] ${note}.`;
  if (spec.support !== 'supported') {
    const what = spec.support === 'refuse' ? 'refuses to start' : 'warns and ignores it';
    text += `\n    [Concord: not supported, ${what}] ${spec.reason ?? ''}`;
  }
  return text;
}
