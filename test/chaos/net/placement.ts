// Where a cluster's members run: each in its own namespace of a TestNetwork (the normal case),
// or, where namespaces cannot be made (not root, no iproute2) or CONCORD_CHAOS_NETNS=off says so,
// in the root namespace on loopback addresses 127.77.N.x (every 127/8 address is local on Linux,
// so members still have one address each and the standard ports). Loopback has no partitions.
// In CI (CI=true) missing namespaces are an error, so a misconfigured CI cannot quietly test less.
import { onExit } from './exit-cleanup.ts';
import { newTag } from './names.ts';
import { namespaceProblem, TestNetwork } from './network.ts';
import { leaseSubnet } from './subnet.ts';

/** Set to `off` to place members on loopback addresses even where namespaces work. */
export const NETNS_ENV = 'CONCORD_CHAOS_NETNS';

/** Members' addresses and how to enter their network. */
export interface Placement {
  /** Undefined on loopback: no partitions there. */
  network: TestNetwork | undefined;
  address(name: string): string;
  /** The command prefix that runs a program in the member's network ([] on loopback). */
  enter(name: string): string[];
  /** Removes the network or frees the loopback addresses; idempotent. */
  release(): Promise<void>;
}

/** Options of `placeMembers`. */
export interface PlacementOptions {
  seed: number;
  log?: (line: string) => void;
}

/** Places `names` in namespaces when possible, else on loopback (or fails, in CI). */
export async function placeMembers(names: string[], options: PlacementOptions): Promise<Placement> {
  const forced = process.env[NETNS_ENV] === 'off';
  const problem = forced ? `${NETNS_ENV}=off` : namespaceProblem();
  if (problem === undefined) return namespaced(names, options);
  if (!forced && process.env['CI'] === 'true') {
    throw new Error(`chaos: ${problem}; in CI the chaos harness must run as root with iproute2`);
  }
  options.log?.(`net: ${problem}: members run on loopback addresses, without partitions`);
  return loopback(names, options);
}

async function namespaced(names: string[], options: PlacementOptions): Promise<Placement> {
  const network = await TestNetwork.create({
    names, seed: options.seed, ...(options.log === undefined ? {} : { log: options.log }),
  });
  return {
    network,
    address: (name) => network.address(name),
    enter: (name) => network.enter(name),
    release: () => network.tearDown(),
  };
}

async function loopback(names: string[], options: PlacementOptions): Promise<Placement> {
  const lease = await leaseSubnet(newTag(), {
    base: '127.77', preferred: options.seed, checkRoutes: false,
  });
  const unregister = onExit(() => lease.release());
  return {
    network: undefined,
    address: (name) => `${lease.prefix}.${names.indexOf(name) + 2}`,
    enter: () => [],
    release: async () => {
      lease.release();
      unregister();
    },
  };
}
