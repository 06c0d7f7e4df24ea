// `--initial-cluster`: parsed into member name → peer URLs (a repeated name adds URLs), and the
// checks etcd 3.4 makes before bootstrapping (etcdserver.VerifyBootstrap / VerifyJoinExisting):
// the member's own name is listed, with exactly its advertised peer URLs, and no URL twice.
// NB: etcd resolves host names when the URL texts differ; this pure check compares texts only.
import { ConfigError, ConfigErrorCode } from './errors.ts';
import { formatUrl, parseEtcdUrl } from './values.ts';

/** Parses `name=url,name=url,...` as etcd's `types.NewURLsMap` does (URLs sorted per name). */
export function parseInitialCluster(text: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const pair of text.split(',')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const url = eq < 0 ? '' : pair.slice(eq + 1);
    const parsed = parseEtcdUrl(url);
    if (!parsed.ok) {
      throw new ConfigError(
        ConfigErrorCode.Bootstrap,
        `error setting up initial cluster: ${parsed.reason}`,
        { flag: 'initial-cluster', value: text },
      );
    }
    const urls = byName.get(name) ?? [];
    urls.push(formatUrl(parsed.value));
    byName.set(name, urls);
  }
  for (const urls of byName.values()) urls.sort();
  return byName;
}

/** The `--initial-cluster` etcd derives from a name: `<name>=<url>` per advertised peer URL. */
export function initialClusterFromName(name: string, peerUrls: readonly string[]): string {
  return peerUrls.map((u) => `${name === '' ? 'default' : name}=${u}`).join(',');
}

/** etcd's `URLsMap.String()`: `name=url` pairs, sorted, comma-separated. */
export function formatInitialCluster(cluster: ReadonlyMap<string, readonly string[]>): string {
  const pairs = [...cluster].flatMap(([name, urls]) => urls.map((u) => `${name}=${u}`));
  return pairs.sort().join(',');
}

/** What the bootstrap check looks at. */
export interface BootstrapInput {
  readonly name: string;
  readonly initialCluster: ReadonlyMap<string, readonly string[]>;
  readonly initialAdvertisePeerUrls: readonly string[];
  readonly initialClusterState: 'new' | 'existing';
}

/**
 * Throws etcd's error when the member cannot bootstrap from this configuration. The server runs
 * it only for an empty data dir, as etcd does; `parseConfig` runs it unless told not to.
 */
export function verifyBootstrap(c: BootstrapInput): void {
  const own = c.initialCluster.get(c.name);
  if (own === undefined) {
    fail(`couldn't find local name ${JSON.stringify(c.name)} in the initial cluster configuration`);
  }
  if (c.initialClusterState === 'new') {
    advertiseMatchesCluster(c.name, own, c.initialAdvertisePeerUrls);
  }
  const seen = new Set<string>();
  for (const urls of c.initialCluster.values()) {
    for (const u of urls) {
      if (seen.has(u)) {
        fail(`initial cluster ${formatInitialCluster(c.initialCluster)} has duplicate url`);
      }
      seen.add(u);
    }
  }
  if (c.initialCluster.size === 0) fail('initial cluster unset and no discovery URL found');
}

function advertiseMatchesCluster(
  name: string,
  clusterUrls: readonly string[],
  advertised: readonly string[],
): void {
  const initial = [...clusterUrls].sort();
  const ap = [...advertised].sort();
  if (initial.length === ap.length && initial.every((u, i) => u === ap[i])) return;
  const detail =
    initial.length !== ap.length
      ? `len(${goQuoteList(ap)}) != len(${goQuoteList(initial)})`
      : mismatchDetail(ap, initial);
  const apText = ap.join(',');
  const missingFromAp = initial.filter((u) => !ap.includes(u));
  if (missingFromAp.length > 0) {
    const has = missingFromAp.map((u) => `${name}=${u}`).join(',');
    fail(
      `--initial-cluster has ${has} but missing from --initial-advertise-peer-urls=${apText} ` +
        `(${detail})`,
    );
  }
  const missingFromCluster = ap.filter((u) => !initial.includes(u));
  const asCluster = ap.map((u) => `${name}=${u}`).join(',');
  fail(
    `--initial-advertise-peer-urls has ${missingFromCluster.join(',')} but missing from ` +
      `--initial-cluster=${asCluster}`,
  );
}

function mismatchDetail(a: readonly string[], b: readonly string[]): string {
  const i = a.findIndex((u, k) => u !== b[k]);
  return `resolved urls: ${JSON.stringify(a[i])} != ${JSON.stringify(b[i])}`;
}

/** Go's `%q` of a string slice: `["a" "b"]`. */
function goQuoteList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

function fail(message: string): never {
  throw new ConfigError(ConfigErrorCode.Bootstrap, message, { flag: 'initial-cluster' });
}
