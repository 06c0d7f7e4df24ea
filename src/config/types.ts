// The validated configuration of one Concord member, in typed units (`Ms`, `Bytes`, `Max` last),
// and the result of parsing a command line. Every field has a value: defaults are applied and
// derived fields (data dir, initial cluster) are filled in, so the server never re-derives them.
import type { SupportLevel } from './flags.ts';

/**
 * TLS settings of one side (client or peer), as given. The peer side is honoured (the server's
 * resolvePeerTls turns it into transport options); the client side is refused until client TLS
 * exists.
 */
export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly clientCertAuth: boolean;
  readonly autoTls: boolean;
  readonly crlFile: string;
  readonly allowedHostname: string;
  /** Peer side only: the CN a peer's client certificate must carry ('' for any). */
  readonly allowedCn: string;
}

/** Automatic compaction: none, by age, or by revisions kept. */
export type AutoCompaction =
  | { readonly mode: 'periodic'; readonly retentionMs: number; readonly retention: string }
  | { readonly mode: 'revision'; readonly retentionRevisions: number; readonly retention: string };

/** The v3 auth token provider: `simple`, or `jwt` with its comma-separated options. */
export type AuthTokenConfig =
  | { readonly type: 'simple' }
  | { readonly type: 'jwt'; readonly options: Readonly<Record<string, string>> };

/** A flag given for a feature Concord does not have (yet). */
export interface UnsupportedFlag {
  /** The flag without dashes (`cert-file`), or a described feature (`https URL`). */
  readonly flag: string;
  /** `warn`: print `message` and run. `refuse`: print `message` and do not start. */
  readonly severity: Exclude<SupportLevel, 'supported'>;
  readonly message: string;
}

/** One member's configuration. */
export interface Config {
  /** Where the values came from: the command line and environment, or a config file. */
  readonly source: 'flags' | 'config-file';
  /** The config file read, or '' when none. */
  readonly configFile: string;

  readonly name: string;
  readonly dataDir: string;
  /** A dedicated WAL directory, or '' for `<dataDir>/member/wal`. */
  readonly walDir: string;

  readonly listenClientUrls: readonly string[];
  readonly advertiseClientUrls: readonly string[];
  readonly listenPeerUrls: readonly string[];
  readonly initialAdvertisePeerUrls: readonly string[];
  readonly listenMetricsUrls: readonly string[];

  /** Member name → its peer URLs, sorted (a name repeated in the flag gives several URLs). */
  readonly initialCluster: ReadonlyMap<string, readonly string[]>;
  /** `--initial-cluster` as given or derived (`<name>=<url>,...`). */
  readonly initialClusterText: string;
  readonly initialClusterState: 'new' | 'existing';
  readonly initialClusterToken: string;

  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly initialElectionTickAdvance: boolean;
  readonly preVote: boolean;
  readonly strictReconfigCheck: boolean;
  readonly forceNewCluster: boolean;

  readonly snapshotCount: number;
  readonly snapshotsMax: number;
  readonly walsMax: number;
  /** The backend quota in effect: 0 in the flag means the 2 GiB default; < 0 disables it. */
  readonly quotaBackendBytes: number;
  readonly requestBytesMax: number;
  readonly txnOpsMax: number;
  readonly concurrentStreamsMax: number;

  readonly grpcKeepaliveMinTimeMs: number;
  readonly grpcKeepaliveIntervalMs: number;
  readonly grpcKeepaliveTimeoutMs: number;

  /** Undefined when auto compaction is disabled (retention 0). */
  readonly autoCompaction: AutoCompaction | undefined;
  readonly compactionBatchLimit: number;
  readonly watchProgressNotifyIntervalMs: number;
  readonly warningApplyDurationMs: number;
  readonly leaseCheckpoint: boolean;
  readonly leaseCheckpointPersist: boolean;

  readonly enableV2: boolean;
  readonly enableGrpcGateway: boolean;
  readonly authToken: AuthTokenConfig;
  readonly bcryptCost: number;
  readonly authTokenTtlSeconds: number;
  /** Allowed CORS origins; `['*']` allows all. */
  readonly cors: readonly string[];
  /** Allowed Host headers; `['*']` allows all. */
  readonly hostWhitelist: readonly string[];
  readonly metrics: 'basic' | 'extensive';

  readonly logger: 'zap' | 'capnslog';
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';
  readonly logOutputs: readonly string[];

  readonly clientTls: TlsConfig;
  readonly peerTls: TlsConfig;
  /** Validity of the certificates --peer-auto-tls generates, in years (etcd 3.5's flag). */
  readonly selfSignedCertValidityYears: number;

  /** Flags given for missing features, each with what the server must do about it. */
  readonly unsupported: readonly UnsupportedFlag[];
}

/** What `parseConfig` decided the process should do. */
export type ParseResult =
  | { readonly kind: 'version' }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'run'; readonly config: Config; readonly warnings: readonly string[] };
