// `ETCD_*` environment variables, as etcd 3.4's `pkg/flags.SetFlagsFromEnv` reads them: each
// flag `--some-flag` has `ETCD_SOME_FLAG`; an empty variable counts as unset; a variable whose
// flag is also on the command line is fatal (etcd refuses to guess which one was meant); any other
// `ETCD_*` variable is reported as unrecognized.
import type { GivenFlag } from './argv.ts';
import { ConfigError, ConfigErrorCode } from './errors.ts';
import { parseFlagValue } from './flag-value.ts';
import { FLAGS, flagToEnv } from './flags.ts';

/** Flags after the environment was merged under the command line. */
export interface WithEnv {
  readonly given: ReadonlyMap<string, GivenFlag>;
  /** Names of the flags whose value came from the environment. */
  readonly fromEnv: ReadonlySet<string>;
  readonly warnings: readonly string[];
}

// Flags etcd reads before (or instead of) the environment pass.
const NOT_FROM_ENV = new Set(['config-file', 'version']);

/** Merges `env` under the command-line flags `given`, with etcd's checks and warnings. */
export function applyEnv(
  given: ReadonlyMap<string, GivenFlag>,
  env: Readonly<Record<string, string | undefined>>,
): WithEnv {
  const merged = new Map(given);
  const fromEnv = new Set<string>();
  const used = new Set<string>();
  const warnings: string[] = [];
  for (const name of given.keys()) {
    const key = flagToEnv(name);
    if (env[key] !== undefined) {
      throw new ConfigError(
        ConfigErrorCode.EnvConflict,
        `conflicting environment variable ${JSON.stringify(key)} is shadowed by corresponding ` +
          'command-line flag (either unset environment variable or disable flag)',
        { flag: name, value: env[key] },
      );
    }
  }
  for (const spec of FLAGS) {
    const key = flagToEnv(spec.name);
    const text = env[key];
    if (given.has(spec.name) || text === undefined || text === '') continue;
    used.add(key);
    if (NOT_FROM_ENV.has(spec.name)) continue;
    const parsed = parseFlagValue(spec, text);
    if (!parsed.ok) {
      const msg = `invalid value ${JSON.stringify(text)} for ${key}: ${parsed.reason}`;
      throw new ConfigError(ConfigErrorCode.BadValue, msg, {
        flag: spec.name,
        value: text,
        exitCode: 1,
      });
    }
    if (spec.kind === 'ignored') {
      warnings.push(`flag "-${spec.name}" is no longer supported - ignoring.`);
      continue;
    }
    merged.set(spec.name, { text, value: parsed.value });
    fromEnv.add(spec.name);
  }
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || used.has(key) || !key.startsWith('ETCD_')) continue;
    warnings.push(`unrecognized environment variable ${key}=${value}`);
  }
  return { given: merged, fromEnv, warnings };
}
