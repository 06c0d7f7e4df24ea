// The command line, parsed as Go's `flag` package parses etcd's: `-flag`, `--flag`, `-flag=value`,
// `-flag value` (not for booleans: `--enable-v2 false` leaves `false` as an argument), `--` ends
// the flags, and the first non-flag argument stops parsing. Failures are Go's messages and exit 2.
import { ConfigError, ConfigErrorCode } from './errors.ts';
import type { FlagValue } from './flag-value.ts';
import { isBoolFlag, parseFlagValue } from './flag-value.ts';
import { FLAG_BY_NAME } from './flags.ts';

/** One flag as given: its text and parsed value. The last occurrence wins, as in Go. */
export interface GivenFlag {
  readonly text: string;
  readonly value: FlagValue;
}

/** What the command line said. */
export interface CommandLine {
  /** Flags given, by name (ignored legacy flags are not here). */
  readonly given: ReadonlyMap<string, GivenFlag>;
  /** Arguments after the flags (etcd rejects them: `'x' is not a valid flag`). */
  readonly positional: readonly string[];
  /** `-h`, `-help` or `--help` was given. */
  readonly help: boolean;
  /** Notes for the operator (legacy flags ignored). */
  readonly warnings: readonly string[];
}

/** Parses `argv` (without the program name) as etcd 3.4's flag set does. */
export function parseArgv(argv: readonly string[]): CommandLine {
  const given = new Map<string, GivenFlag>();
  const warnings: string[] = [];
  const args = [...argv];
  while (args.length > 0) {
    const s = args[0]!;
    if (s.length < 2 || !s.startsWith('-')) break;
    const minuses = s[1] === '-' ? 2 : 1;
    if (s === '--') {
      args.shift();
      break;
    }
    let name = s.slice(minuses);
    if (name === '' || name.startsWith('-') || name.startsWith('=')) {
      throw new ConfigError(ConfigErrorCode.FlagSyntax, `bad flag syntax: ${s}`);
    }
    args.shift();
    let value: string | undefined;
    const eq = name.indexOf('=', 1);
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = FLAG_BY_NAME.get(name);
    if (spec === undefined) {
      if (name === 'help' || name === 'h') return { given, positional: [], help: true, warnings };
      const msg = `flag provided but not defined: -${name}`;
      throw new ConfigError(ConfigErrorCode.UnknownFlag, msg, { flag: name });
    }
    if (isBoolFlag(spec)) {
      const text = value ?? 'true';
      const parsed = parseFlagValue(spec, text);
      if (!parsed.ok) {
        const msg = `invalid boolean value ${JSON.stringify(text)} for -${name}: ${parsed.reason}`;
        throw new ConfigError(ConfigErrorCode.BadValue, msg, { flag: name, value: text });
      }
      if (spec.kind === 'ignored') {
        warnings.push(`flag "-${name}" is no longer supported - ignoring.`);
        continue;
      }
      given.set(name, { text, value: parsed.value });
      continue;
    }
    if (value === undefined) {
      if (args.length === 0) {
        throw new ConfigError(ConfigErrorCode.FlagSyntax, `flag needs an argument: -${name}`, {
          flag: name,
        });
      }
      value = args.shift()!;
    }
    const parsed = parseFlagValue(spec, value);
    if (!parsed.ok) {
      const msg = `invalid value ${JSON.stringify(value)} for flag -${name}: ${parsed.reason}`;
      throw new ConfigError(ConfigErrorCode.BadValue, msg, { flag: name, value });
    }
    given.set(name, { text: value, value: parsed.value });
  }
  return { given, positional: args, help: false, warnings };
}
