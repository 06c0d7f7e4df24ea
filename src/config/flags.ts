// The one table of etcd 3.4.23's command-line flags (plus --self-signed-cert-validity, taken from
// etcd 3.5): name, Go type, etcd's default, Concord's default where it differs, and whether
// Concord supports the feature. Flipping a feature to supported is a one-word change to `support`
// here; parsing, env vars, help and the report of unsupported flags all read this table.

/** How a flag's text becomes a value (etcd's Go flag type). */
export type FlagKind =
  | 'string'
  | 'bool'
  | 'uint'
  | 'uint32'
  | 'uint64'
  | 'int'
  | 'int64'
  | 'duration'
  /** etcd's `UniqueURLs`: comma-separated, validated, de-duplicated, sorted. */
  | 'urls'
  /** `--cors`: URLs, except that `*` is allowed. */
  | 'cors'
  /** etcd's `SelectiveStringValue`: one of `choices`. */
  | 'choice'
  /** Comma-separated strings (`StringsValue`, `UniqueStringsValue`). */
  | 'strings'
  /** A flag of older etcd, accepted as a boolean and ignored with a warning. */
  | 'ignored';

/**
 * What Concord does with a flag. `supported`: parsed into Config and honoured. `warn`: accepted;
 * the server prints the reason and runs, since the missing feature changes nothing a client can
 * rely on. `refuse`: the server must not start, since running without the feature would be
 * dangerously different (plaintext instead of TLS, a wrong cluster bootstrap).
 */
export type SupportLevel = 'supported' | 'warn' | 'refuse';

/** One flag of etcd. */
export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  /** etcd's default as text, parsed like a given value ('' for none). */
  readonly etcdDefault: string;
  /** Concord's default when it differs from etcd's (NB: each is explained in `DEFAULT_NOTES`). */
  readonly concordDefault?: string;
  /** Allowed values of a `choice` flag. */
  readonly choices?: readonly string[];
  readonly support: SupportLevel;
  /** Why the flag is not (fully) supported, printed with the warning or refusal. */
  readonly reason?: string;
  /** The help section it belongs to. */
  readonly group: string;
  readonly usage: string;
}

const NO_TLS = 'client TLS is not implemented yet; refusing to serve clients in plaintext';
const NO_PEER_CRL =
  'peer certificate revocation lists are not checked yet; refusing to accept peer ' +
  'certificates that may be revoked';
const NO_PEER_NAME_CHECK =
  'restricting peer certificates by name is not implemented yet; refusing to accept ' +
  'any peer certificate the CA signed';
const NO_DISCOVERY = 'discovery is not implemented; use --initial-cluster';
const NO_PROXY = 'the v2 proxy mode is not implemented';
const NO_EFFECT = 'has no effect in Concord';

type Opts = Partial<Pick<FlagSpec, 'concordDefault' | 'choices' | 'reason' | 'support'>>;
let group = '';
function f(name: string, kind: FlagKind, etcdDefault: string, usage: string, o: Opts = {}) {
  const spec: FlagSpec = { name, kind, etcdDefault, support: 'supported', group, usage, ...o };
  return spec;
}
const warn = (reason: string): Opts => ({ support: 'warn', reason });
const refuse = (reason: string): Opts => ({ support: 'refuse', reason });
const section = (name: string) => {
  group = name;
  return [];
};

/** Every flag etcd 3.4.23 defines, in its help order, and etcd 3.5's --self-signed-cert-validity. */
export const FLAGS: readonly FlagSpec[] = [
  ...section('Member'),
  f('name', 'string', 'default', 'Human-readable name for this member.'),
  f('data-dir', 'string', '', 'Path to the data directory (default "${name}.concord").'),
  f('wal-dir', 'string', '', 'Path to the dedicated wal directory.'),
  f('snapshot-count', 'uint64', '100000', 'Committed transactions that trigger a snapshot.'),
  f('heartbeat-interval', 'uint', '100', 'Time (in milliseconds) of a heartbeat interval.'),
  f('election-timeout', 'uint', '1000', 'Time (in milliseconds) for an election to timeout.'),
  f('initial-election-tick-advance', 'bool', 'true', 'Fast-forward initial election ticks.'),
  f('listen-peer-urls', 'urls', 'http://localhost:2380', 'URLs to listen on for peer traffic.', {
    concordDefault: 'http://127.0.0.1:2380',
  }),
  f('listen-client-urls', 'urls', 'http://localhost:2379', 'URLs to listen on for clients.', {
    concordDefault: 'http://127.0.0.1:2379',
  }),
  f('max-snapshots', 'uint', '5', 'Snapshot files to retain (0 is unlimited).'),
  f('max-wals', 'uint', '5', 'WAL files to retain (0 is unlimited).'),
  f('quota-backend-bytes', 'int64', '0', 'Backend size alarm (0 is the 2 GiB default).'),
  f('backend-batch-interval', 'duration', '0', 'Longest wait before a backend commit.', warn(
    'Concord commits the backend once per apply batch',
  )),
  f('backend-batch-limit', 'int', '0', 'Most operations before a backend commit.', warn(
    'Concord commits the backend once per apply batch',
  )),
  f('max-txn-ops', 'uint', '128', 'Maximum number of operations permitted in a transaction.'),
  f('max-request-bytes', 'uint', '1572864', 'Maximum client request size in bytes.'),
  f('max-concurrent-streams', 'uint32', '4294967295', 'Concurrent streams per client.'),
  f('grpc-keepalive-min-time', 'duration', '5s', 'Minimum interval between client pings.'),
  f('grpc-keepalive-interval', 'duration', '2h', 'Server-to-client ping interval (0 off).'),
  f('grpc-keepalive-timeout', 'duration', '20s', 'Wait for a ping answer (0 off).'),

  ...section('Clustering'),
  f('initial-advertise-peer-urls', 'urls', 'http://localhost:2380', 'Peer URLs to advertise.', {
    concordDefault: 'http://127.0.0.1:2380',
  }),
  f('initial-cluster', 'string', '', 'Initial cluster (default "${name}=${peer URLs}").'),
  f('initial-cluster-state', 'choice', 'new', "Initial cluster state ('new' or 'existing').", {
    choices: ['new', 'existing'],
  }),
  f('initial-cluster-token', 'string', 'etcd-cluster', 'Initial cluster token for bootstrap.'),
  f('advertise-client-urls', 'urls', 'http://localhost:2379', 'Client URLs to advertise.', {
    concordDefault: 'http://127.0.0.1:2379',
  }),
  f('discovery', 'string', '', 'Discovery URL used to bootstrap.', refuse(NO_DISCOVERY)),
  f('discovery-fallback', 'choice', 'proxy', "When discovery fails: 'exit' or 'proxy'.", {
    choices: ['proxy', 'exit'],
    ...warn(NO_DISCOVERY),
  }),
  f('discovery-proxy', 'string', '', 'HTTP proxy for the discovery service.', refuse(NO_DISCOVERY)),
  f('discovery-srv', 'string', '', 'DNS srv domain used to bootstrap.', refuse(NO_DISCOVERY)),
  f('discovery-srv-name', 'string', '', 'Suffix to the DNS srv name.', refuse(NO_DISCOVERY)),
  f('strict-reconfig-check', 'bool', 'true', 'Reject reconfigurations that lose quorum.'),
  f('pre-vote', 'bool', 'false', 'Run an additional Raft election phase (default true).', {
    concordDefault: 'true',
  }),
  f('auto-compaction-retention', 'string', '0', 'Auto compaction retention (0 disables).'),
  f('auto-compaction-mode', 'string', 'periodic', "Retention unit: 'periodic' or 'revision'."),
  f('enable-v2', 'bool', 'false', 'Accept etcd V2 client requests.'),

  ...section('Security'),
  f('cert-file', 'string', '', 'Path to the client server TLS cert file.', refuse(NO_TLS)),
  f('key-file', 'string', '', 'Path to the client server TLS key file.', refuse(NO_TLS)),
  f('client-cert-auth', 'bool', 'false', 'Enable client cert authentication.', refuse(NO_TLS)),
  f('client-crl-file', 'string', '', 'Client certificate revocation list.', refuse(NO_TLS)),
  f('client-cert-allowed-hostname', 'string', '', 'Allowed client cert hostname.', refuse(NO_TLS)),
  f('trusted-ca-file', 'string', '', 'Client server TLS trusted CA file.', refuse(NO_TLS)),
  f('auto-tls', 'bool', 'false', 'Client TLS using generated certificates.', refuse(NO_TLS)),
  f('peer-cert-file', 'string', '', 'Path to the peer server TLS cert file.'),
  f('peer-key-file', 'string', '', 'Path to the peer server TLS key file.'),
  f('peer-client-cert-auth', 'bool', 'false', 'Enable peer client cert authentication.'),
  f('peer-trusted-ca-file', 'string', '', 'Path to the peer server TLS trusted CA file.'),
  f('peer-cert-allowed-cn', 'string', '', 'Required CN of peer client certs.', {
    ...refuse(NO_PEER_NAME_CHECK),
  }),
  f('peer-cert-allowed-hostname', 'string', '', 'Allowed peer TLS hostname.', {
    ...refuse(NO_PEER_NAME_CHECK),
  }),
  f('peer-auto-tls', 'bool', 'false', 'Peer TLS using self-generated certificates if ' +
    '--peer-key-file and --peer-cert-file are not provided.'),
  f('peer-crl-file', 'string', '', 'Peer certificate revocation list.', refuse(NO_PEER_CRL)),
  f('self-signed-cert-validity', 'uint', '1', 'Validity of auto-TLS certificates, in years ' +
    '(from etcd 3.5).'),
  f('cipher-suites', 'strings', '', 'Supported TLS cipher suites.', refuse(
    'choosing TLS cipher suites is not implemented yet',
  )),
  f('experimental-peer-skip-client-san-verification', 'bool', 'false', 'Skip peer SAN check.', {
    ...warn('Concord never checks the SANs of peer client certificates against their address'),
  }),
  f('cors', 'cors', '*', 'Whitelist of CORS origins (empty or * allows all).'),
  f('host-whitelist', 'strings', '*', 'Acceptable hostnames from HTTP clients (* allows all).'),

  ...section('Auth'),
  f('auth-token', 'string', 'simple', "Auth token type and options ('simple' or 'jwt,...')."),
  f('bcrypt-cost', 'uint', '10', 'Cost of bcrypt password hashing (4 to 31).'),
  f('auth-token-ttl', 'uint', '300', 'Time (in seconds) of the auth-token-ttl.'),

  ...section('Profiling and Monitoring'),
  f('enable-pprof', 'bool', 'false', 'Enable runtime profiling data via HTTP.', warn(
    'Go pprof endpoints do not exist in Concord',
  )),
  f('metrics', 'string', 'basic', "Metrics detail ('basic' or 'extensive')."),
  f('listen-metrics-urls', 'urls', '', 'URLs to listen on for metrics and health.'),

  ...section('Logging'),
  f('logger', 'string', 'capnslog', "Log format: 'zap' (structured) or 'capnslog'."),
  f('log-outputs', 'strings', 'default', "Log targets ('default', 'stderr', 'stdout', paths)."),
  f('log-output', 'strings', 'default', "Deprecated: use '--log-outputs'."),
  f('log-level', 'string', 'info', 'Log level: debug, info, warn, error, panic, or fatal.'),
  f('debug', 'bool', 'false', "Deprecated: use '--log-level=debug'."),
  f('log-package-levels', 'string', '', 'Per-package log levels (capnslog).', warn(NO_EFFECT)),

  ...section('v2 Proxy'),
  f('proxy', 'choice', 'off', "Proxy mode ('off', 'readonly' or 'on').", {
    choices: ['off', 'readonly', 'on'],
    ...refuse(NO_PROXY),
  }),
  f('proxy-failure-wait', 'uint', '5000', 'Proxy: failed endpoint hold (ms).', warn(NO_PROXY)),
  f('proxy-refresh-interval', 'uint', '30000', 'Proxy: refresh interval (ms).', warn(NO_PROXY)),
  f('proxy-dial-timeout', 'uint', '1000', 'Proxy: dial timeout (ms).', warn(NO_PROXY)),
  f('proxy-write-timeout', 'uint', '5000', 'Proxy: write timeout (ms).', warn(NO_PROXY)),
  f('proxy-read-timeout', 'uint', '0', 'Proxy: read timeout (ms).', warn(NO_PROXY)),

  ...section('Experimental feature'),
  f('experimental-initial-corrupt-check', 'bool', 'false', 'Check data corruption at boot.', warn(
    'corruption checks are not implemented yet',
  )),
  f('experimental-corrupt-check-time', 'duration', '0s', 'Time between corruption checks.', warn(
    'corruption checks are not implemented yet',
  )),
  f('experimental-enable-v2v3', 'string', '', 'Serve v2 through the v3 backend.', refuse(
    'v2 emulation on the v3 store is not implemented',
  )),
  f('experimental-backend-bbolt-freelist-type', 'string', 'array', 'bbolt freelist type.', warn(
    'Concord stores data in LMDB, not bbolt',
  )),
  f('experimental-enable-lease-checkpoint', 'bool', 'false', 'Checkpoint lease remaining TTLs.'),
  f('experimental-enable-lease-checkpoint-persist', 'bool', 'false', 'Persist lease TTLs.'),
  f('experimental-compaction-batch-limit', 'int', '1000', 'Revisions deleted per batch.'),
  f('experimental-watch-progress-notify-interval', 'duration', '10m', 'Progress notify period.'),
  f('experimental-warning-apply-duration', 'duration', '100ms', 'Slow apply warning threshold.'),
  f('enable-grpc-gateway', 'bool', 'true', 'Enable the gRPC JSON gateway.'),

  ...section('Unsafe feature'),
  f('force-new-cluster', 'bool', 'false', 'Force to create a new one-member cluster.'),
  f('unsafe-no-fsync', 'bool', 'false', 'Disables fsync (unsafe).', warn(
    'Concord always fsyncs its WAL',
  )),

  ...section('General'),
  f('config-file', 'string', '', 'Path to the server configuration file.'),
  f('version', 'bool', 'false', 'Print the version and exit.'),
  ...[
    'cluster-active-size',
    'cluster-remove-delay',
    'cluster-sync-interval',
    'config',
    'force',
    'max-result-buffer',
    'max-retry-attempts',
    'peer-heartbeat-interval',
    'peer-election-timeout',
    'retry-interval',
    'snapshot',
    'v',
    'vv',
    'test.coverprofile',
    'test.outputdir',
  ].map((name) => f(name, 'ignored', '', 'No longer supported; ignored.')),
];

/** The table by flag name. */
export const FLAG_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((s) => [s.name, s]));

/** Why each Concord default differs from etcd's. */
export const DEFAULT_NOTES: Readonly<Record<string, string>> = {
  'data-dir': 'the default data directory is "${name}.concord", not "${name}.etcd"',
  'listen-client-urls': '127.0.0.1 rather than localhost, so the address family is certain',
  'advertise-client-urls': '127.0.0.1 rather than localhost, to match the listen URL',
  'listen-peer-urls': '127.0.0.1 rather than localhost, so the address family is certain',
  'initial-advertise-peer-urls': '127.0.0.1 rather than localhost, to match the listen URL',
  'pre-vote': 'PreVote is on by default (etcd 3.4: off; etcd 3.5+: on)',
};

/** The default Concord uses for `spec`. */
export function defaultOf(spec: FlagSpec): string {
  return spec.concordDefault ?? spec.etcdDefault;
}

/** A flag's `ETCD_*` variable: `initial-cluster-token` → `ETCD_INITIAL_CLUSTER_TOKEN`. */
export function flagToEnv(name: string): string {
  return `ETCD_${name.replaceAll('-', '_').toUpperCase()}`;
}
