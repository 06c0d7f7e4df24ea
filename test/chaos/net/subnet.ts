// Choosing a /24 for one test network: one no route of this machine touches (so a real network is
// never shadowed) and no other live run holds. Runs claim a subnet with an exclusively created
// lock file naming their tag; a lock whose owner is dead is taken over.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './command.ts';
import { isStale, LOCK_DIR } from './names.ts';

/** A /24 held by this run until released. */
export interface SubnetLease {
  /** The first three octets, e.g. `10.77.5`; hosts are `${prefix}.1` … `${prefix}.254`. */
  prefix: string;
  /** Frees the lock file; idempotent, synchronous (safe in an exit handler). */
  release(): void;
}

/** Options of `leaseSubnet`. */
export interface SubnetOptions {
  /** The /16 to choose from: `10.77` (namespaces) or `127.77` (loopback, no namespaces). */
  base: string;
  /** The third octet to try first (from the run's seed); the next ones follow. */
  preferred: number;
  /** Skip /24s that overlap a route of the root namespace (default true; not for 127/8). */
  checkRoutes?: boolean;
}

/** Claims a free /24 under `base` for `tag`. */
export async function leaseSubnet(tag: string, options: SubnetOptions): Promise<SubnetLease> {
  const taken = options.checkRoutes === false ? [] : await routedNetworks();
  mkdirSync(LOCK_DIR, { recursive: true });
  for (let k = 0; k < 256; k++) {
    const third = (((options.preferred + k) % 256) + 256) % 256;
    const prefix = `${options.base}.${third}`;
    if (taken.some((net) => overlaps(net, { address: toInt(`${prefix}.0`), bits: 24 }))) continue;
    const lockPath = join(LOCK_DIR, `subnet-${prefix}`);
    if (!tryLock(lockPath, tag)) continue;
    let released = false;
    return {
      prefix,
      release: () => {
        if (released) return;
        released = true;
        unlinkQuietly(lockPath);
      },
    };
  }
  throw new Error(`chaos: no free /24 under ${options.base}.0.0/16 for a test network`);
}

function tryLock(path: string, tag: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, tag, { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readQuietly(path);
    // A lock being written this instant reads empty: treat it as held.
    if (holder === '' || !isStale(holder)) return false;
    unlinkQuietly(path);
  }
  return false;
}

/** A small file's trimmed text; empty when it cannot be read. */
export function readQuietly(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Removes a file if it exists. */
export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

interface Network {
  address: number;
  bits: number;
}

/**
 * Every IPv4 network the root namespace routes or has an address in, except default routes and
 * networks wider than a /8 (which a more specific /24 would not take anything real from).
 */
async function routedNetworks(): Promise<Network[]> {
  const routes = await run('ip', ['-4', '-o', 'route', 'show', 'table', 'all']);
  const addresses = await run('ip', ['-4', '-o', 'addr', 'show']);
  const found: Network[] = [];
  for (const match of `${routes.stdout}\n${addresses.stdout}`.matchAll(
    /(?:^|\s)(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/gm,
  )) {
    const bits = Number(match[2] ?? '32');
    if (bits < 8) continue;
    found.push({ address: toInt(match[1]!), bits });
  }
  return found;
}

function overlaps(a: Network, b: Network): boolean {
  const bits = Math.min(a.bits, b.bits);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((a.address & mask) >>> 0) === ((b.address & mask) >>> 0);
}

function toInt(address: string): number {
  return address.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
}
