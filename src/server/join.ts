// Joining an existing cluster (--initial-cluster-state existing), as etcd does it: ask the other
// members' peer URLs for GET /members, take the cluster id from the answer's header, and check
// that --initial-cluster describes exactly that membership (same count, same peer URLs), which
// also tells this member its id (the one `member add` gave it).
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { PeerTlsOptions } from '../transport/index.ts';
import { MemberError } from './errors.ts';
import type { MemberInfo } from './storage.ts';

/** How long one peer may take to answer GET /members. */
const FETCH_TIMEOUT_MS = 2000;

/** The cluster an existing member belongs to, as its peers describe it. */
export interface RemoteCluster {
  clusterId: bigint;
  members: MemberInfo[];
}

/** Asks each URL in turn; the first answer wins. Throws MemberError('bad-config') when none answers. */
export async function fetchRemoteCluster(urls: readonly string[], tls: PeerTlsOptions | undefined): Promise<RemoteCluster> {
  const errors: string[] = [];
  for (const url of urls) {
    try {
      return await fetchMembers(url, tls);
    } catch (err) {
      errors.push(`${url}: ${(err as Error).message}`);
    }
  }
  throw new MemberError(
    'bad-config',
    `cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs (${errors.join('; ')})`,
  );
}

/**
 * Matches --initial-cluster (name → peer URLs) against the remote membership (etcd's
 * ValidateClusterAndAssignIDs) and returns the remote members, names filled in from the local
 * view for members that have not published theirs yet.
 */
export function matchInitialCluster(local: ReadonlyMap<string, readonly string[]>, remote: readonly MemberInfo[]): MemberInfo[] {
  if (local.size !== remote.length) {
    throw new MemberError('bad-config', `error validating peerURLs: member count is unequal (--initial-cluster has ${local.size}, the cluster has ${remote.length})`);
  }
  const key = (urls: readonly string[]): string => [...urls].sort().join(',');
  const byUrls = new Map(remote.map((m) => [key(m.peerUrls), m]));
  const members: MemberInfo[] = [];
  for (const [name, urls] of local) {
    const found = byUrls.get(key(urls));
    if (found === undefined) {
      const known = remote.map((m) => key(m.peerUrls)).join(' ');
      throw new MemberError('bad-config', `error validating peerURLs: unmatched member while checking PeerURLs ("${key(urls)}" of ${name} is not among ${known})`);
    }
    members.push({ ...found, name: found.name === '' ? name : found.name });
  }
  return members;
}

function fetchMembers(base: string, tls: PeerTlsOptions | undefined): Promise<RemoteCluster> {
  const url = new URL('/members', base);
  const secure = url.protocol === 'https:';
  const options: https.RequestOptions = { method: 'GET', timeout: FETCH_TIMEOUT_MS };
  if (secure && tls !== undefined) {
    options.cert = readFileSync(tls.certFile);
    options.key = readFileSync(tls.keyFile);
    if (tls.trustedCaFile !== undefined) options.ca = readFileSync(tls.trustedCaFile);
    else options.rejectUnauthorized = false;
  }
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        try {
          if (res.statusCode !== 200) throw new Error(`GET /members answered ${res.statusCode}`);
          const header = res.headers['x-etcd-cluster-id'];
          if (typeof header !== 'string') throw new Error('GET /members has no X-Etcd-Cluster-ID');
          resolve({ clusterId: BigInt(`0x${header}`), members: parseMembers(Buffer.concat(chunks).toString('utf8')) });
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${FETCH_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** etcd's /members JSON: ids are bare 64-bit numbers, so they are read from the text. */
function parseMembers(body: string): MemberInfo[] {
  const quotedIds = body.replace(/"id":(\d+)/g, '"id":"$1"');
  const list = JSON.parse(quotedIds) as Array<{ id: string; name?: string; peerURLs?: string[]; clientURLs?: string[]; isLearner?: boolean }>;
  if (!Array.isArray(list)) throw new Error('GET /members did not answer a list');
  return list.map((m) => ({
    id: BigInt(m.id),
    name: m.name ?? '',
    peerUrls: m.peerURLs ?? [],
    clientUrls: m.clientURLs ?? [],
    isLearner: m.isLearner ?? false,
  }));
}
