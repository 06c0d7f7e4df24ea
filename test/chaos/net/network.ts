// A test network of Linux network namespaces: one per member, each with one address on a private
// /24, joined by a bridge in the root namespace, which also has an address on it so that clients
// (the harness's workers, in the root namespace) reach every member. Nothing routes further: the
// namespaces have no default route and the root namespace does not forward.
//
//      root ns: bridge <tag>b 10.77.N.1 ──┬── <tag>h0 ═ veth ═ eth0 10.77.N.2  ns <tag>-m1
//                                         ├── <tag>h1 ═ veth ═ eth0 10.77.N.3  ns <tag>-m2
//                                         └── <tag>h2 ═ veth ═ eth0 10.77.N.4  ns <tag>-m3
//
// Faults block peer traffic by direction. Dropping A→B is one policy-routing rule in B's
// namespace, `from <A> iif eth0 blackhole` (before the `local` table, which is moved from
// preference 0 to 1000), so B silently drops every packet A sends it, as a cut cable would; no
// error reaches A. Only member addresses are matched, so client traffic from the root namespace
// always flows. Needs iproute2 only: no iptables/nft, no tc actions, no kernel modules.
//
// NB: TCP needs both directions. With A→B dropped, no new connection forms either way (A's SYN,
// or A's SYN-ACK to B, is lost), while on a connection established before, B's data still
// reaches A until B's retransmissions of unacknowledged data give up: asymmetric as Jepsen's
// iptables DROP rules are. A UDP probe shows the one-way drop exactly (see network.test.ts).
import { onExit } from './exit-cleanup.ts';
import { run, runSync } from './command.ts';
import { bridgeName, hostVethName, namespaceName, newTag } from './names.ts';
import { leaseSubnet, type SubnetLease } from './subnet.ts';
import { removeTag } from './sweep.ts';

/** Options of `TestNetwork.create`. */
export interface NetworkOptions {
  /** The members, in order; member i gets the address `<prefix>.<i + 2>`. */
  names: readonly string[];
  /** Chooses the /24 to try first (a busy one is skipped). */
  seed?: number;
  /** One line per change made. */
  log?: (line: string) => void;
}

/** One member's place in the network. */
export interface NetworkMember {
  name: string;
  index: number;
  namespace: string;
  address: string;
}

/** The interface each namespace sees. */
const MEMBER_IFNAME = 'eth0';
/** Preference of the `local` table's rule once moved behind the drop rules. */
const LOCAL_RULE_PREF = 1000;
/** Preference of the rule dropping traffic from member i: DROP_RULE_PREF_BASE + i. */
const DROP_RULE_PREF_BASE = 100;

/** A namespaced network for one cluster; `tearDown()` (or process exit) removes all of it. */
export class TestNetwork {
  readonly tag: string;
  /** The root namespace's address on the bridge: where clients' connections come from. */
  readonly hostAddress: string;
  readonly #members: Map<string, NetworkMember>;
  readonly #subnet: SubnetLease;
  readonly #log: (line: string) => void;
  /** Blocked directions as `from>to`. */
  #blocked = new Set<string>();
  #unregister: () => void;
  #torndown = false;

  private constructor(tag: string, subnet: SubnetLease, options: NetworkOptions) {
    this.tag = tag;
    this.#subnet = subnet;
    this.#log = options.log ?? (() => undefined);
    this.hostAddress = `${subnet.prefix}.1`;
    this.#members = new Map(
      options.names.map((name, index) => {
        const address = `${subnet.prefix}.${index + 2}`;
        return [name, { name, index, namespace: namespaceName(tag, name), address }];
      }),
    );
    this.#unregister = onExit(() => {
      removeTag(tag);
      subnet.release();
    });
  }

  /** Creates the namespaces, veths, bridge and addresses; all or nothing. */
  static async create(options: NetworkOptions): Promise<TestNetwork> {
    if (options.names.length === 0 || options.names.length > 200) {
      throw new Error(`chaos: a test network needs 1 to 200 members, not ${options.names.length}`);
    }
    if (new Set(options.names).size !== options.names.length) {
      throw new Error(`chaos: member names repeat: ${options.names.join(', ')}`);
    }
    const tag = newTag();
    const subnet = await leaseSubnet(tag, { base: '10.77', preferred: options.seed ?? 0 });
    const network = new TestNetwork(tag, subnet, options);
    try {
      await network.#build();
    } catch (error) {
      await network.tearDown();
      throw error;
    }
    network.#log(
      `net: ${tag} up: bridge ${network.hostAddress}/24, ` +
        [...network.#members.values()].map((m) => `${m.name} ${m.address}`).join(', '),
    );
    return network;
  }

  async #build(): Promise<void> {
    const bridge = bridgeName(this.tag);
    const members = [...this.#members.values()];
    for (const m of members) await run('ip', ['netns', 'add', m.namespace]);
    const root = [
      `link add ${bridge} type bridge`,
      `link set ${bridge} up`,
      `addr add ${this.hostAddress}/24 dev ${bridge}`,
      ...members.flatMap((m) => [
        `link add ${hostVethName(this.tag, m.index)} type veth ` +
          `peer name ${MEMBER_IFNAME} netns ${m.namespace}`,
        `link set ${hostVethName(this.tag, m.index)} master ${bridge} up`,
      ]),
    ];
    await run('ip', ['-batch', '-'], { input: root.join('\n') });
    await Promise.all(
      members.map((m) =>
        ipBatch(m.namespace, [
          'link set lo up',
          `link set ${MEMBER_IFNAME} up`,
          `addr add ${m.address}/24 dev ${MEMBER_IFNAME}`,
          // Drop rules must come before local delivery: move the `local` lookup behind them.
          `rule add pref ${LOCAL_RULE_PREF} lookup local`,
          'rule del pref 0',
        ]),
      ),
    );
  }

  /** Every member, in order. */
  members(): NetworkMember[] {
    return [...this.#members.values()];
  }

  /** The address of `name` inside the network. */
  address(name: string): string {
    return this.#member(name).address;
  }

  /** The namespace `name` runs in. */
  namespace(name: string): string {
    return this.#member(name).namespace;
  }

  /** The command prefix that runs a program inside `name`'s namespace (it execs: same pid). */
  enter(name: string): string[] {
    return ['ip', 'netns', 'exec', this.namespace(name)];
  }

  /** The blocked directions in effect, as [from, to]. */
  blocked(): Array<[string, string]> {
    return [...this.#blocked].sort().map((key) => key.split('>') as [string, string]);
  }

  /**
   * Peer traffic flows only between members that share a group. Groups may overlap (a member in
   * two groups bridges them) and need not cover everyone (a member in none is isolated). Replaces
   * whatever was in effect, one-way drops included.
   */
  async partition(groups: readonly (readonly string[])[]): Promise<void> {
    for (const name of groups.flat()) this.#member(name);
    const together = (a: string, b: string): boolean =>
      groups.some((group) => group.includes(a) && group.includes(b));
    const next = new Set<string>();
    for (const from of this.#members.keys()) {
      for (const to of this.#members.keys()) {
        if (from !== to && !together(from, to)) next.add(`${from}>${to}`);
      }
    }
    await this.#apply(next, `partition ${groups.map((g) => `[${g.join(',')}]`).join(' ')}`);
  }

  /** `name` alone: no peer traffic to or from it. */
  async isolate(name: string): Promise<void> {
    const rest = [...this.#members.keys()].filter((n) => n !== name);
    await this.partition([[name], rest]);
  }

  /** Two sides that reach each other only through `middle`, which sees both. */
  async bridge(left: readonly string[], middle: string, right: readonly string[]): Promise<void> {
    await this.partition([[...left, middle], [middle, ...right]]);
  }

  /** Drops packets from `from` to `to`, keeping the reverse; added to what is in effect. */
  async oneWay(from: string, to: string): Promise<void> {
    await this.block([[from, to]]);
  }

  /**
   * Adds drops of each [from, to] in `pairs`, keeping what is in effect; the pairs not blocked
   * before (pass them to `unblock` to undo exactly this).
   */
  async block(pairs: ReadonlyArray<readonly [string, string]>): Promise<Array<[string, string]>> {
    for (const [from, to] of pairs) {
      this.#member(from);
      this.#member(to);
      if (from === to) throw new Error(`chaos: cannot drop traffic from "${from}" to itself`);
    }
    const added = pairs.filter(([from, to]) => !this.#blocked.has(`${from}>${to}`));
    const keys = added.map(([from, to]) => `${from}>${to}`);
    const what = `block ${added.map(([from, to]) => `${from}->${to}`).join(' ')}`;
    await this.#apply(new Set([...this.#blocked, ...keys]), what);
    return added.map(([from, to]) => [from, to]);
  }

  /** Removes the drops of `pairs` only. */
  async unblock(pairs: ReadonlyArray<readonly [string, string]>): Promise<void> {
    const keys = new Set(pairs.map(([from, to]) => `${from}>${to}`));
    const next = new Set([...this.#blocked].filter((key) => !keys.has(key)));
    await this.#apply(next, `unblock ${pairs.map(([from, to]) => `${from}->${to}`).join(' ')}`);
  }

  /** Removes every drop rule: all members talk again. */
  async heal(): Promise<void> {
    await this.#apply(new Set(), 'heal');
  }

  /** Removes processes left in the namespaces, the namespaces, the bridge. Idempotent. */
  async tearDown(): Promise<void> {
    if (this.#torndown) return;
    this.#torndown = true;
    removeTag(this.tag);
    this.#subnet.release();
    this.#unregister();
    this.#log(`net: ${this.tag} removed`);
  }

  /** Installs `next` as the set of blocked directions, changing only what differs. */
  async #apply(next: Set<string>, what: string): Promise<void> {
    if (this.#torndown) throw new Error('chaos: the test network was torn down');
    const changes = new Map<string, string[]>();
    const change = (key: string, verb: 'add' | 'del'): void => {
      const [from, to] = key.split('>') as [string, string];
      const source = this.#member(from);
      const pref = DROP_RULE_PREF_BASE + source.index;
      const line = verb === 'add'
        ? `rule add pref ${pref} from ${source.address}/32 iif ${MEMBER_IFNAME} blackhole`
        : `rule del pref ${pref}`;
      const namespace = this.#member(to).namespace;
      changes.set(namespace, [...(changes.get(namespace) ?? []), line]);
    };
    for (const key of this.#blocked) if (!next.has(key)) change(key, 'del');
    for (const key of next) if (!this.#blocked.has(key)) change(key, 'add');
    try {
      await Promise.all([...changes].map(([namespace, lines]) => ipBatch(namespace, lines)));
      this.#blocked = next;
    } catch (error) {
      // Some rules changed, some not: learn what is really installed, so heal() can undo it.
      this.#blocked = await this.#installed();
      throw error;
    }
    const blocked = this.blocked().map(([from, to]) => `${from}->${to}`);
    this.#log(`net: ${what}: blocked ${blocked.length === 0 ? 'none' : blocked.join(' ')}`);
  }

  /** The blocked directions the namespaces' rules really hold. */
  async #installed(): Promise<Set<string>> {
    const byAddress = new Map([...this.#members.values()].map((m) => [m.address, m.name]));
    const found = new Set<string>();
    for (const to of this.#members.values()) {
      const { stdout } = await run('ip', ['-n', to.namespace, '-o', 'rule', 'show']);
      for (const match of stdout.matchAll(/from (\S+) iif \S+ blackhole/g)) {
        const from = byAddress.get(match[1]!);
        if (from !== undefined) found.add(`${from}>${to.name}`);
      }
    }
    return found;
  }

  #member(name: string): NetworkMember {
    const member = this.#members.get(name);
    if (member === undefined) throw new Error(`chaos: no member "${name}" in the test network`);
    return member;
  }
}

async function ipBatch(namespace: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await run('ip', ['-n', namespace, '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/** Why this process cannot create namespaced networks, or undefined when it can. */
export function namespaceProblem(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (uid 0)';
  const probe = `${newTag()}-probe`;
  const failed = runSync('ip', ['netns', 'add', probe]);
  if (failed !== undefined) return `"ip netns add" failed: ${failed.trim()}`;
  runSync('ip', ['netns', 'del', probe]);
  return undefined;
}

/**
 * For tests: `{ skip: false }` when namespaces work here; else a reason to skip, except in CI
 * (CI=true), where missing namespaces fail the run instead of silently testing less.
 */
export function requireNamespaces(): { skip: string | false } {
  const problem = namespaceProblem();
  if (problem === undefined) return { skip: false };
  if (process.env['CI'] === 'true') {
    throw new Error(`chaos: ${problem}; CI runs the chaos tests as root with iproute2 installed`);
  }
  return { skip: problem };
}
