// The checks etcd 3.4 makes once every value is parsed (embed.Config.Validate and the start-up
// steps after it), in etcd's order so the first error reported is etcd's first error, with
// etcd's words. Each check is a small pure function over already-typed values.
import { ConfigError, ConfigErrorCode } from './errors.ts';
import type { AuthTokenConfig, AutoCompaction, Config, TlsConfig } from './types.ts';
import { isBindableHost, parseEtcdUrl, parseGoDuration } from './values.ts';

/** The longest election timeout etcd accepts, in ms (see etcd's tuning guide). */
export const ELECTION_TIMEOUT_MS_MAX = 50_000;
/** The backend quota used when the flag is 0: 2 GiB. */
export const QUOTA_BACKEND_BYTES_DEFAULT = 2 * 1024 ** 3;
/** The largest backend quota etcd recommends: 8 GiB (larger only warns). */
export const QUOTA_BACKEND_BYTES_MAX = 8 * 1024 ** 3;
/** The bcrypt cost used when the flag is out of range. */
export const BCRYPT_COST_DEFAULT = 10;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'] as const;

function invalid(message: string, flag?: string): ConfigError {
  return new ConfigError(ConfigErrorCode.Invalid, message, flag === undefined ? {} : { flag });
}

/** Logger, level and outputs, as etcd's setupLogging checks them. */
export function checkLogging(
  logger: string,
  level: string,
  outputs: readonly string[],
): Pick<Config, 'logger' | 'logLevel' | 'logOutputs'> {
  if (logger !== 'zap' && logger !== 'capnslog') {
    throw invalid(`unknown logger option ${JSON.stringify(logger)}`, 'logger');
  }
  // NB: etcd panics on an unknown level; 'dpanic' is zap's development panic, treated as panic.
  const lvl = level === 'dpanic' ? 'panic' : level;
  const logLevel = LOG_LEVELS.find((l) => l === lvl);
  if (logLevel === undefined) throw invalid(`unknown level ${JSON.stringify(level)}`, 'log-level');
  if (logger === 'capnslog') {
    if (outputs.length !== 1) {
      const got = `[${outputs.map((o) => JSON.stringify(o)).join(' ')}]`;
      throw invalid(`--logger=capnslog supports only 1 value in '--log-outputs', got ${got}`);
    }
    const only = outputs[0]!;
    if (!['default', 'stderr', 'stdout'].includes(only)) {
      throw invalid(
        `unknown log-output ${JSON.stringify(only)} (only supports "default", "stderr", "stdout")`,
        'log-outputs',
      );
    }
  } else if (outputs.length > 1 && outputs.includes('default')) {
    throw invalid('multi logoutput for "default" is not supported yet', 'log-outputs');
  }
  return { logger, logLevel, logOutputs: outputs };
}

/** Listen URLs must name an IP (or localhost): a host name cannot be bound. */
export function checkBindUrls(urls: readonly string[]): void {
  for (const text of urls) {
    const u = parseEtcdUrl(text);
    if (!u.ok || u.value.scheme === 'unix' || u.value.scheme === 'unixs') continue;
    if (!isBindableHost(u.value.hostname)) {
      throw invalid(`expected IP in URL for binding (${text})`);
    }
  }
}

/** Advertised URLs must have a host. */
export function checkHostUrls(flag: string, urls: readonly string[]): void {
  for (const text of urls) {
    const u = parseEtcdUrl(text);
    if (u.ok && u.value.hostname === '') {
      throw invalid(
        `--${flag} ${JSON.stringify(urls.join(','))} must be "host:port" ` +
          `(unexpected empty host (${text}))`,
        flag,
      );
    }
  }
}

/** Heartbeat and election timeout: positive, election ≥ 5 heartbeats, election ≤ 50 s. */
export function checkTimeouts(heartbeatMs: number, electionMs: number): void {
  if (heartbeatMs <= 0) {
    const msg = `--heartbeat-interval must be >0 (set to ${heartbeatMs}ms)`;
    throw invalid(msg, 'heartbeat-interval');
  }
  if (electionMs <= 0) {
    throw invalid(`--election-timeout must be >0 (set to ${electionMs}ms)`, 'election-timeout');
  }
  if (5 * heartbeatMs > electionMs) {
    throw invalid(
      `--election-timeout[${electionMs}ms] should be at least as 5 times as ` +
        `--heartbeat-interval[${heartbeatMs}ms]`,
      'election-timeout',
    );
  }
  if (electionMs > ELECTION_TIMEOUT_MS_MAX) {
    throw invalid(
      `--election-timeout[${electionMs}ms] is too long, and should be set less than ` +
        `${ELECTION_TIMEOUT_MS_MAX}ms`,
      'election-timeout',
    );
  }
}

/**
 * Auto compaction from mode and retention. An integer retention is hours (periodic) or a
 * revision count (revision); otherwise a Go duration (periodic). Retention 0 disables it.
 */
export function parseAutoCompaction(mode: string, retention: string): AutoCompaction | undefined {
  if (mode !== '' && mode !== 'periodic' && mode !== 'revision') {
    throw invalid(`unknown auto-compaction-mode ${JSON.stringify(mode)}`, 'auto-compaction-mode');
  }
  const n = /^[+-]?[0-9]+$/.test(retention) ? Number(retention) : NaN;
  if (Number.isSafeInteger(n) && n >= 0) {
    if (n === 0) return undefined;
    return mode === 'revision'
      ? { mode: 'revision', retentionRevisions: n, retention }
      : { mode: 'periodic', retentionMs: n * 3_600_000, retention };
  }
  const d = parseGoDuration(retention);
  if (!d.ok) {
    throw invalid(`error parsing CompactionRetention: ${d.reason}`, 'auto-compaction-retention');
  }
  if (mode === 'revision') {
    // NB: etcd would read the duration's nanoseconds as a revision count; Concord refuses.
    throw invalid(
      `auto-compaction-retention ${JSON.stringify(retention)} must be a revision count ` +
        "when --auto-compaction-mode is 'revision'",
      'auto-compaction-retention',
    );
  }
  return d.value === 0 ? undefined : { mode: 'periodic', retentionMs: d.value, retention };
}

/** The backend quota in effect, with etcd's warning past 8 GiB. */
export function effectiveQuota(bytes: number, warnings: string[]): number {
  if (bytes === 0) return QUOTA_BACKEND_BYTES_DEFAULT;
  if (bytes > QUOTA_BACKEND_BYTES_MAX) {
    warnings.push(
      `backend quota ${bytes} exceeds maximum recommended quota ${QUOTA_BACKEND_BYTES_MAX}`,
    );
  }
  return bytes;
}

/** `--auth-token`: `simple`, or `jwt,key=value,...` (etcd's auth.decomposeOpts). */
export function parseAuthToken(text: string): AuthTokenConfig {
  const [type, ...opts] = text.split(',');
  const options: Record<string, string> = {};
  for (const opt of opts) {
    const pair = opt.split('=');
    if (pair.length !== 2 || Object.hasOwn(options, pair[0]!)) {
      throw invalid(`auth: invalid auth options: --auth-token=${text}`, 'auth-token');
    }
    options[pair[0]!] = pair[1]!;
  }
  if (type === 'simple') return { type: 'simple' };
  if (type === 'jwt') return { type: 'jwt', options };
  throw invalid(
    `auth: invalid auth options: unknown token type ${JSON.stringify(type)}`,
    'auth-token',
  );
}

/** bcrypt cost: 4 to 31, else etcd warns and uses the default. */
export function effectiveBcryptCost(cost: number, warnings: string[]): number {
  if (cost >= 4 && cost <= 31) return cost;
  warnings.push(
    `use default bcrypt cost ${BCRYPT_COST_DEFAULT} instead of the invalid given cost ${cost}`,
  );
  return BCRYPT_COST_DEFAULT;
}

/**
 * Peer TLS as etcd's configurePeerListeners sees it (after embed.Config.Validate, before the
 * initial cluster is parsed): --peer-auto-tls yields to given files, an https listen URL needs
 * TLS material, cert and key come together, and TLS beside an http listen URL only warns. With
 * auto TLS in effect, etcd 3.4 drops --peer-client-cert-auth and --peer-trusted-ca-file.
 */
export function checkPeerTls(
  peerTls: TlsConfig,
  listenPeerUrls: readonly string[],
  selfSignedCertValidityYears: number,
  warnings: string[],
): void {
  const filesGiven = peerTls.certFile !== '' || peerTls.keyFile !== '';
  const autoTls = peerTls.autoTls && !filesGiven;
  if (peerTls.autoTls && filesGiven) warnings.push('ignoring peer auto TLS since certs given');
  if (autoTls) {
    if (selfSignedCertValidityYears <= 0) {
      throw invalid(
        'failed to get peer self-signed certs: selfSignedCertValidity is invalid,' +
          'it should be greater than 0',
        'self-signed-cert-validity',
      );
    }
    const dropped = [
      ...(peerTls.clientCertAuth ? ['--peer-client-cert-auth'] : []),
      ...(peerTls.trustedCaFile !== '' ? ['--peer-trusted-ca-file'] : []),
    ];
    if (dropped.length > 0) {
      // NB: etcd 3.4 drops them silently; Concord says so.
      warnings.push(
        `${dropped.join(' and ')} ignored: --peer-auto-tls generates a self-signed ` +
          'certificate and peers do not verify each other (as in etcd 3.4)',
      );
    }
  }
  const tlsGiven = filesGiven || autoTls;
  for (const text of listenPeerUrls) {
    const u = parseEtcdUrl(text);
    if (!u.ok) continue;
    if (u.value.scheme === 'http') {
      if (tlsGiven) {
        warnings.push(
          `The scheme of peer url ${text} is HTTP while peer key/cert files are presented. ` +
            'Ignored peer key/cert files.',
        );
      }
      if (peerTls.clientCertAuth && !autoTls) {
        warnings.push(
          `The scheme of peer url ${text} is HTTP while client cert auth ` +
            '(--peer-client-cert-auth) is enabled. Ignored client cert auth for this url.',
        );
      }
    } else if (u.value.scheme === 'https' && !tlsGiven) {
      throw invalid(
        `cannot listen on TLS for ${u.value.host}: KeyFile and CertFile are not presented`,
        'listen-peer-urls',
      );
    }
  }
  if (filesGiven && (peerTls.certFile === '' || peerTls.keyFile === '')) {
    throw invalid(
      `KeyFile and CertFile must both be present[key: ${peerTls.keyFile}, ` +
        `cert: ${peerTls.certFile}]`,
      peerTls.certFile === '' ? 'peer-cert-file' : 'peer-key-file',
    );
  }
}
