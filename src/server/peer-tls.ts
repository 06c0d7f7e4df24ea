// Peer TLS for the transport, from the member's configuration (the config room has checked how
// the flags combine). Given files are opened and paired now, as etcd opens them when it starts,
// so a bad path fails at start rather than at the first peer connection. With --peer-auto-tls
// and no files, a self-signed certificate lives in <data-dir>/fixtures/peer as etcd 3.4 keeps it:
// cert.pem and key.pem (an ECDSA P-521 key, SEC1 PEM, mode 0600), made once and reused from then
// on, whatever names it covers and however old it is; peers then skip verifying each other.
import { X509Certificate as NodeX509, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Config } from '../config/index.ts';
import type { PeerTlsOptions } from '../transport/index.ts';
import { MemberError } from './errors.ts';

/** What resolvePeerTls reads of the Config. */
export type PeerTlsConfig = Pick<
  Config,
  'dataDir' | 'listenPeerUrls' | 'initialAdvertisePeerUrls' | 'peerTls' | 'selfSignedCertValidityYears'
>;

/** Options of resolvePeerTls. */
export interface ResolvePeerTlsOptions {
  /** The generated certificate's start of validity (now by default). */
  now?: Date;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
}

/** The generated certificate, as etcd names it under `<data-dir>/fixtures/peer`. */
export const AUTO_TLS_CERT_FILE = 'cert.pem';
export const AUTO_TLS_KEY_FILE = 'key.pem';

const DAY_MS = 24 * 60 * 60 * 1000;
/** etcd's ECDSA curve and signature hash for self-signed certificates. */
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-521', hash: 'SHA-512' } as const;
/** Random serial number bytes (etcd: below 2^128). */
const SERIAL_BYTES = 16;

/**
 * The transport's TLS options for `config`, or undefined for plaintext peers. Throws
 * MemberError('bad-config') when a given file cannot be read or the key does not match the
 * certificate.
 */
export async function resolvePeerTls(
  config: PeerTlsConfig,
  options: ResolvePeerTlsOptions = {},
): Promise<PeerTlsOptions | undefined> {
  const t = config.peerTls;
  if (t.certFile !== '' || t.keyFile !== '') {
    await checkFiles(t.certFile, t.keyFile, t.trustedCaFile);
    return {
      certFile: t.certFile,
      keyFile: t.keyFile,
      ...(t.trustedCaFile !== '' && { trustedCaFile: t.trustedCaFile }),
      // etcd's TLSInfo.ServerConfig: a trusted CA alone also makes client certificates required.
      clientCertAuth: t.clientCertAuth || t.trustedCaFile !== '',
    };
  }
  if (!t.autoTls) return undefined;
  const dir = join(config.dataDir, 'fixtures', 'peer');
  const certFile = join(dir, AUTO_TLS_CERT_FILE);
  const keyFile = join(dir, AUTO_TLS_KEY_FILE);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if ((await exists(certFile)) && (await exists(keyFile))) {
    options.log?.('info', `peer TLS: using the self-signed certificate in ${dir}`);
  } else {
    const hosts = certificateHosts([...config.listenPeerUrls, ...config.initialAdvertisePeerUrls]);
    const years = config.selfSignedCertValidityYears;
    if (!(years > 0)) {
      throw new MemberError('bad-config', `peer TLS: self-signed certificate validity must be > 0 years, got ${years}`);
    }
    const pem = await selfSignedCertificate(hosts, years, options.now ?? new Date());
    // The key first: a certificate on disk implies its key is complete.
    await writeAtomically(keyFile, pem.key, 0o600);
    await writeAtomically(certFile, pem.cert, 0o644);
    options.log?.('info', `peer TLS: created a self-signed certificate for ${hosts.join(', ')} in ${dir}`);
  }
  return { certFile, keyFile, insecureSkipVerify: true };
}

/** The hosts of `urls` (http and https), first occurrence first, as certificate names. */
export function certificateHosts(urls: readonly string[]): string[] {
  const hosts: string[] = [];
  for (const text of urls) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (host !== '' && !hosts.includes(host)) hosts.push(host);
  }
  return hosts;
}

/**
 * A self-signed certificate as etcd's transport.SelfCert makes it: subject O=etcd, ECDSA P-521
 * signed with SHA-512, server authentication, not a CA, valid `years` × 365 days from `now`,
 * with an IP SAN per IP host and a DNS SAN per name. PEM certificate and SEC1 PEM key.
 */
export async function selfSignedCertificate(
  hosts: readonly string[],
  years: number,
  now: Date,
): Promise<{ cert: string; key: string }> {
  // The library needs the Reflect metadata API; loaded here, only for auto TLS.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const names = hosts.map((value) => ({ type: isIP(value) === 0 ? 'dns' : 'ip', value }) as const);
  const extensions = [
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.BasicConstraintsExtension(false, undefined, true),
    ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
  ];
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(SERIAL_BYTES).toString('hex'),
      name: 'O=etcd',
      notBefore: now,
      notAfter: new Date(now.getTime() + years * 365 * DAY_MS),
      signingAlgorithm: KEY_ALGORITHM,
      keys,
      extensions,
    },
    webcrypto,
  );
  const key = KeyObject.from(keys.privateKey).export({ type: 'sec1', format: 'pem' });
  return { cert: cert.toString('pem') + '\n', key: String(key) };
}

/** Reads the given files as etcd does at start (cert, key, CA) and checks that they pair. */
async function checkFiles(certFile: string, keyFile: string, caFile: string): Promise<void> {
  const cert = await readOrFail(certFile);
  const key = await readOrFail(keyFile);
  const ca = caFile === '' ? undefined : await readOrFail(caFile);
  try {
    createSecureContext({ cert, key, ...(ca !== undefined && { ca }) });
    if (ca !== undefined) new NodeX509(ca);
  } catch (err) {
    throw new MemberError(
      'bad-config',
      `peer TLS: cannot use --peer-cert-file ${certFile}, --peer-key-file ${keyFile}` +
        `${caFile === '' ? '' : `, --peer-trusted-ca-file ${caFile}`}: ${(err as Error).message}`,
    );
  }
}

/** A file's bytes, or etcd's `open <path>: <reason>` error. */
async function readOrFail(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file or directory'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (err as Error).message;
    throw new MemberError('bad-config', `open ${path}: ${reason}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes `path` whole or not at all (a temporary file renamed over it). */
async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, path);
}
