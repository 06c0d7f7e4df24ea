// The config room: etcd's command-line flags, ETCD_* environment variables and YAML config file
// → one typed, validated Config. Pure (no process, no file system): the CLI passes argv, env and
// a file reader, then prints help, the version, warnings or the error, and exits.
export { parseConfig } from './parse.ts';
export type { ParseOptions } from './parse.ts';
export type {
  AuthTokenConfig,
  AutoCompaction,
  Config,
  ParseResult,
  TlsConfig,
  UnsupportedFlag,
} from './types.ts';
export { ConfigError, ConfigErrorCode, isConfigError } from './errors.ts';
export type { ConfigErrorDetail } from './errors.ts';
export { DEFAULT_NOTES, FLAGS, FLAG_BY_NAME, flagToEnv } from './flags.ts';
export type { FlagKind, FlagSpec, SupportLevel } from './flags.ts';
export { verifyBootstrap, parseInitialCluster } from './bootstrap.ts';
export type { BootstrapInput } from './bootstrap.ts';
export { helpText } from './help.ts';
export { FILE_KEYS } from './yaml-file.ts';
export {
  BCRYPT_COST_DEFAULT,
  ELECTION_TIMEOUT_MS_MAX,
  QUOTA_BACKEND_BYTES_DEFAULT,
  QUOTA_BACKEND_BYTES_MAX,
} from './validate.ts';
