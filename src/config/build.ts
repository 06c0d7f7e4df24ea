// Assembles the typed Config from parsed flag values (command line + env, or a config file):
// fills defaults, derives what etcd derives (data dir, initial cluster, advertise URLs), runs the
// validation in etcd's order, and lists the flags given for features Concord lacks.
import type { GivenFlag } from './argv.ts';
import { formatInitialCluster, initialClusterFromName, parseInitialCluster } from './bootstrap.ts';
import { verifyBootstrap } from './bootstrap.ts';
import { ConfigError, ConfigErrorCode } from './errors.ts';
import type { FlagValue } from './flag-value.ts';
import { defaultValue } from './flag-value.ts';
import { FLAG_BY_NAME, FLAGS } from './flags.ts';
import type { Config, TlsConfig, UnsupportedFlag } from './types.ts';
import * as check from './validate.ts';

/** What `buildConfig` needs. */
export interface BuildInput {
  /** Values given by the user, by flag name (already parsed). */
  readonly given: ReadonlyMap<string, GivenFlag>;
  readonly source: Config['source'];
  readonly configFile: string;
  /** Run etcd's bootstrap check of `--initial-cluster` (the server skips it on restart). */
  readonly verifyBootstrap: boolean;
}

/** Builds and validates the Config; pushes operator notes onto `warnings`. */
export function buildConfig(input: BuildInput, warnings: string[]): Config {
  const { given } = input;
  const value = (name: string): FlagValue => {
    const spec = FLAG_BY_NAME.get(name);
    if (spec === undefined) throw new Error(`config: no flag ${name}`);
    return given.get(name)?.value ?? defaultValue(spec);
  };
  const str = (name: string) => value(name) as string;
  const bool = (name: string) => value(name) as boolean;
  const num = (name: string) => value(name) as number;
  const list = (name: string) => value(name) as readonly string[];

  const name = str('name');
  const fromFlags = input.source === 'flags';
  const discovery = str('discovery') !== '' || str('discovery-srv') !== '';
  const proxyMayServe =
    str('proxy') !== 'off' || (str('discovery') !== '' && str('discovery-fallback') === 'proxy');

  // etcd drops the default advertise URL once listen-client-urls is given on the command line.
  const listenClientUrls = list('listen-client-urls');
  const clientAdvertiseDropped =
    fromFlags && given.has('listen-client-urls') && !given.has('advertise-client-urls');
  const advertiseClientUrls = clientAdvertiseDropped ? [] : list('advertise-client-urls');
  const initialAdvertisePeerUrls = list('initial-advertise-peer-urls');
  const discoveryClears = discovery || (fromFlags && str('discovery-srv-name') !== '');
  const initialClusterText = given.has('initial-cluster')
    ? str('initial-cluster')
    : discoveryClears
      ? ''
      : initialClusterFromName(name, initialAdvertisePeerUrls);

  // --- etcd's embed.Config.Validate, in its order ---
  const outputs = given.has('log-output') ? list('log-output') : list('log-outputs');
  if (given.has('log-output') && given.has('log-outputs')) {
    throw new ConfigError(
      ConfigErrorCode.Invalid,
      "both '--log-output' and '--log-outputs' are set; only set '--log-outputs'",
    );
  }
  const debug = bool('debug');
  const logging = check.checkLogging(str('logger'), debug ? 'debug' : str('log-level'), outputs);
  if (debug) warnings.push("deprecated '--debug' flag is set (use '--log-level=debug' instead)");
  check.checkBindUrls(list('listen-peer-urls'));
  check.checkBindUrls(listenClientUrls);
  check.checkBindUrls(list('listen-metrics-urls'));
  check.checkHostUrls('initial-advertise-peer-urls', initialAdvertisePeerUrls);
  check.checkHostUrls('advertise-client-urls', advertiseClientUrls);
  const state = str('initial-cluster-state');
  if (state !== 'new' && state !== 'existing') {
    throw invalidAt('initial-cluster-state', `unexpected clusterState ${JSON.stringify(state)}`);
  }
  const bootstrapSources = [str('discovery'), initialClusterText, str('discovery-srv')];
  if (bootstrapSources.filter((s) => s !== '').length > 1) {
    throw new ConfigError(
      ConfigErrorCode.Invalid,
      'multiple discovery or bootstrap flags are set. ' +
        'Choose one of "initial-cluster", "discovery" or "discovery-srv"',
    );
  }
  check.checkTimeouts(num('heartbeat-interval'), num('election-timeout'));
  if (advertiseClientUrls.length === 0 && listenClientUrls.length > 0 && !proxyMayServe) {
    throw invalidAt(
      'advertise-client-urls',
      '--advertise-client-urls is required when --listen-client-urls is set explicitly',
    );
  }
  const autoCompaction = check.parseAutoCompaction(
    str('auto-compaction-mode'),
    str('auto-compaction-retention'),
  );
  const leaseCheckpoint = bool('experimental-enable-lease-checkpoint');
  const leaseCheckpointPersist = bool('experimental-enable-lease-checkpoint-persist');
  if (leaseCheckpointPersist && !leaseCheckpoint) {
    throw invalidAt(
      'experimental-enable-lease-checkpoint-persist',
      'setting experimental-enable-lease-checkpoint-persist requires ' +
        'experimental-enable-lease-checkpoint',
    );
  }

  // --- checks etcd makes while starting the server ---
  const peerTls = tls(str, bool, 'peer-');
  const selfSignedCertValidityYears = num('self-signed-cert-validity');
  check.checkPeerTls(peerTls, list('listen-peer-urls'), selfSignedCertValidityYears, warnings);
  const initialCluster = parseInitialCluster(initialClusterText);
  if (input.verifyBootstrap && !discovery) {
    verifyBootstrap({ name, initialCluster, initialAdvertisePeerUrls, initialClusterState: state });
  }
  const metrics = str('metrics');
  if (metrics !== 'basic' && metrics !== 'extensive') {
    warnings.push(`unknown --metrics ${JSON.stringify(metrics)}; using "basic"`);
  }

  return {
    source: input.source,
    configFile: input.configFile,
    name,
    dataDir: str('data-dir') === '' ? `${name}.concord` : str('data-dir'),
    walDir: str('wal-dir'),
    listenClientUrls,
    advertiseClientUrls,
    listenPeerUrls: list('listen-peer-urls'),
    initialAdvertisePeerUrls,
    listenMetricsUrls: list('listen-metrics-urls'),
    initialCluster,
    initialClusterText: initialClusterText === '' ? '' : formatInitialCluster(initialCluster),
    initialClusterState: state,
    initialClusterToken: str('initial-cluster-token'),
    heartbeatIntervalMs: num('heartbeat-interval'),
    electionTimeoutMs: num('election-timeout'),
    initialElectionTickAdvance: bool('initial-election-tick-advance'),
    preVote: bool('pre-vote'),
    strictReconfigCheck: bool('strict-reconfig-check'),
    forceNewCluster: bool('force-new-cluster'),
    snapshotCount: num('snapshot-count'),
    snapshotsMax: num('max-snapshots'),
    walsMax: num('max-wals'),
    quotaBackendBytes: check.effectiveQuota(num('quota-backend-bytes'), warnings),
    requestBytesMax: num('max-request-bytes'),
    txnOpsMax: num('max-txn-ops'),
    concurrentStreamsMax: num('max-concurrent-streams'),
    grpcKeepaliveMinTimeMs: num('grpc-keepalive-min-time'),
    grpcKeepaliveIntervalMs: num('grpc-keepalive-interval'),
    grpcKeepaliveTimeoutMs: num('grpc-keepalive-timeout'),
    autoCompaction,
    compactionBatchLimit: num('experimental-compaction-batch-limit'),
    watchProgressNotifyIntervalMs: num('experimental-watch-progress-notify-interval'),
    warningApplyDurationMs: num('experimental-warning-apply-duration'),
    leaseCheckpoint,
    leaseCheckpointPersist,
    enableV2: bool('enable-v2'),
    enableGrpcGateway: bool('enable-grpc-gateway'),
    authToken: check.parseAuthToken(str('auth-token')),
    bcryptCost: check.effectiveBcryptCost(num('bcrypt-cost'), warnings),
    authTokenTtlSeconds: num('auth-token-ttl'),
    cors: list('cors'),
    hostWhitelist: list('host-whitelist'),
    metrics: metrics === 'extensive' ? 'extensive' : 'basic',
    ...logging,
    clientTls: tls(str, bool, ''),
    peerTls,
    selfSignedCertValidityYears,
    unsupported: unsupportedFlags(given, [
      ...listenClientUrls,
      ...advertiseClientUrls,
      ...list('listen-metrics-urls'),
      // Peer TLS exists; only TLS over a unix socket does not.
      ...[...list('listen-peer-urls'), ...initialAdvertisePeerUrls].filter((u) =>
        u.startsWith('unixs:'),
      ),
    ]),
  };
}

function invalidAt(flag: string, message: string): ConfigError {
  return new ConfigError(ConfigErrorCode.Invalid, message, { flag });
}

function tls(
  str: (name: string) => string,
  bool: (name: string) => boolean,
  p: '' | 'peer-',
): TlsConfig {
  return {
    certFile: str(`${p}cert-file`),
    keyFile: str(`${p}key-file`),
    trustedCaFile: str(`${p}trusted-ca-file`),
    clientCertAuth: bool(`${p}client-cert-auth`),
    autoTls: bool(`${p}auto-tls`),
    crlFile: str(p === '' ? 'client-crl-file' : 'peer-crl-file'),
    allowedHostname: str(p === '' ? 'client-cert-allowed-hostname' : 'peer-cert-allowed-hostname'),
    allowedCn: p === '' ? '' : str('peer-cert-allowed-cn'),
  };
}

/**
 * Flags given, with a value other than their default, whose feature Concord lacks (a flag given
 * at its default changes nothing), plus TLS URLs Concord cannot serve (client and metrics https,
 * any unixs), which would need TLS whatever the flags say.
 */
function unsupportedFlags(
  given: ReadonlyMap<string, GivenFlag>,
  urls: readonly string[],
): UnsupportedFlag[] {
  const out: UnsupportedFlag[] = [];
  for (const spec of FLAGS) {
    const g = given.get(spec.name);
    if (spec.support === 'supported' || g === undefined) continue;
    if (sameValue(g.value, defaultValue(spec))) continue;
    const message = `--${spec.name}: ${spec.reason ?? 'not supported'}`;
    out.push({ flag: spec.name, severity: spec.support, message });
  }
  const tlsUrls = [...new Set(urls.filter((u) => /^(https|unixs):/.test(u)))];
  if (tlsUrls.length > 0) {
    const message =
      `TLS URLs (${tlsUrls.join(',')}): TLS for clients and on unix sockets is not ` +
      'implemented yet; refusing to serve in plaintext';
    out.push({ flag: 'https URL', severity: 'refuse', message });
  }
  return out;
}

function sameValue(a: FlagValue, b: FlagValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return a === b;
}
