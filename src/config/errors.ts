// The expected failures of the config room: one error class carrying a code from a const object.
// Messages follow etcd 3.4's own words where etcd has them, so an operator who knows etcd's
// errors recognises Concord's. `exitCode` says how the CLI should exit: 2 for a flag that does not
// parse (Go's flag package), 1 for a value that parses but does not validate (etcdmain).

/** Why a configuration was rejected. */
export const ConfigErrorCode = {
  /** A flag etcd does not define: `flag provided but not defined: -foo`. */
  UnknownFlag: 'config-unknown-flag',
  /** A flag without its value, or malformed flag syntax (`---x`). */
  FlagSyntax: 'config-flag-syntax',
  /** A value that does not parse as its flag's type (number, boolean, URL, choice…). */
  BadValue: 'config-bad-value',
  /** A non-flag argument on the command line: `'extra' is not a valid flag`. */
  NotAFlag: 'config-not-a-flag',
  /** A flag given both on the command line and as its `ETCD_*` variable (etcd refuses). */
  EnvConflict: 'config-env-conflict',
  /** Values that parse alone but not together (election timeout vs heartbeat, URLs…). */
  Invalid: 'config-invalid',
  /** `--initial-cluster` disagrees with the member's name or advertised peer URLs. */
  Bootstrap: 'config-bootstrap',
  /** The config file cannot be read, is not YAML, or holds a value of the wrong type. */
  File: 'config-file',
  /** A flag for a feature Concord lacks whose absence would change behaviour dangerously. */
  Unsupported: 'config-unsupported',
} as const;
export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];

/** Structured detail a ConfigError carries. */
export interface ConfigErrorDetail {
  /** The flag concerned, without dashes (`listen-client-urls`). */
  flag?: string;
  /** The offending value as given. */
  value?: string;
  /** The error that caused this one (a YAML parse error, say). */
  cause?: unknown;
  /** Overrides the exit code the code implies (a bad `ETCD_*` value exits 1, not 2). */
  exitCode?: 1 | 2;
}

/** An invalid configuration: the message is what the CLI prints. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code: ConfigErrorCode;
  readonly flag: string | undefined;
  readonly value: string | undefined;
  /** The process exit code etcd uses for this failure: 2 from flag parsing, else 1. */
  readonly exitCode: 1 | 2;

  constructor(code: ConfigErrorCode, message: string, detail: ConfigErrorDetail = {}) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.code = code;
    this.flag = detail.flag;
    this.value = detail.value;
    this.exitCode = detail.exitCode ?? (FLAG_PARSING_CODES.includes(code) ? 2 : 1);
  }
}

const FLAG_PARSING_CODES: readonly ConfigErrorCode[] = [
  ConfigErrorCode.UnknownFlag,
  ConfigErrorCode.FlagSyntax,
  ConfigErrorCode.BadValue,
];

/** True when `err` is a ConfigError, optionally of the given code. */
export function isConfigError(err: unknown, code?: ConfigErrorCode): err is ConfigError {
  return err instanceof ConfigError && (code === undefined || err.code === code);
}
