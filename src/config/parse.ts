// parseConfig: argv + environment (or a config file) → what the process should do. Pure: the
// CLI passes `process.argv.slice(2)`, `process.env` and a file reader, and does the printing and
// exiting. Precedence is etcd 3.4's: a config file replaces flags and env entirely; otherwise a
// flag on the command line and its ETCD_* variable together is an error, and env fills the rest.
import { parseArgv } from './argv.ts';
import { buildConfig } from './build.ts';
import { applyEnv } from './env.ts';
import { ConfigError, ConfigErrorCode } from './errors.ts';
import { flagToEnv } from './flags.ts';
import { helpText } from './help.ts';
import type { ParseResult } from './types.ts';
import { parseConfigFile } from './yaml-file.ts';

/** Options of `parseConfig`. */
export interface ParseOptions {
  /** Reads the config file (the CLI passes a `readFileSync` wrapper); required to use one. */
  readonly readFile?: (path: string) => string;
  /**
   * Check `--initial-cluster` against the name and advertised peer URLs (default true). etcd
   * checks only when bootstrapping (empty data dir): a server that finds a member in its data
   * dir parses with `false`.
   */
  readonly verifyBootstrap?: boolean;
}

// The subcommands of etcd's binary, which Concord does not have.
const SUBCOMMANDS = new Set(['gateway', 'grpc-proxy']);

/** Parses etcd's command line and environment into a validated Config, or help or version. */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  options: ParseOptions = {},
): ParseResult {
  const first = argv[0];
  if (first !== undefined && SUBCOMMANDS.has(first)) {
    throw new ConfigError(
      ConfigErrorCode.Unsupported,
      `the '${first}' command of etcd is not supported by Concord`,
    );
  }
  const cmd = parseArgv(argv);
  if (cmd.help) return { kind: 'help', text: helpText() };
  const stray = cmd.positional[0];
  if (stray !== undefined) {
    throw new ConfigError(ConfigErrorCode.NotAFlag, `'${stray}' is not a valid flag`, {
      value: stray,
    });
  }
  if (cmd.given.get('version')?.value === true) return { kind: 'version' };
  const warnings = [...cmd.warnings];
  const verifyBootstrap = options.verifyBootstrap ?? true;
  const fromFlag = cmd.given.get('config-file')?.text ?? '';
  const configFile = fromFlag !== '' ? fromFlag : (env[flagToEnv('config-file')] ?? '');

  if (configFile === '') {
    const merged = applyEnv(cmd.given, env);
    warnings.push(...merged.warnings);
    const config = buildConfig(
      { given: merged.given, source: 'flags', configFile: '', verifyBootstrap },
      warnings,
    );
    return { kind: 'run', config, warnings };
  }

  if (options.readFile === undefined) {
    const msg = `cannot read config file "${configFile}": no reader given`;
    throw new ConfigError(ConfigErrorCode.File, msg);
  }
  let text: string;
  try {
    text = options.readFile(configFile);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new ConfigError(ConfigErrorCode.File, `open ${configFile}: ${detail}`, { cause: err });
  }
  const file = parseConfigFile(text, configFile);
  const ignored = [...cmd.given.keys()].filter((n) => n !== 'config-file').map((n) => `--${n}`);
  const envIgnored = Object.keys(env).filter((k) => k.startsWith('ETCD_'));
  ignored.push(...envIgnored.filter((k) => k !== 'ETCD_CONFIG_FILE'));
  if (ignored.length > 0) {
    warnings.push(
      `loaded server configuration from "${configFile}"; other command line flags and ` +
        `environment variables are ignored: ${ignored.join(', ')}`,
    );
  }
  warnings.push(...file.warnings);
  const config = buildConfig(
    { given: file.given, source: 'config-file', configFile, verifyBootstrap },
    warnings,
  );
  return { kind: 'run', config, warnings };
}
