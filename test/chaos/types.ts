// The contract between the chaos harness (workloads, history, checkers, run.ts) and the fault
// layer (test/chaos/cluster.ts, net/, faults/): how a cluster of real processes is started, and
// the faults the harness may inject into it. Both sides code against this file only; a change
// here is agreed by both (write a `// NB(fault-layer):` or `// NB(harness):` note beside it).
//
// Every fault is undone by its counterpart (kill → restart, pause → resume, partition/oneWay →
// heal, removeMember → addMember); `recover()` undoes whatever is still in effect.

/** Which server the cluster runs. */
export type TargetKind = 'concord' | 'etcd';

/** What to start. */
export interface ClusterTarget {
  kind: TargetKind;
  /** 3 or 5 (any n ≥ 1 should work). */
  members: number;
  /** Chooses ports/addresses and anything else random in the fault layer, so a run reproduces. */
  seed: number;
  /** A fresh directory the cluster owns: data dirs, logs. Removed by nobody: the caller decides. */
  workDir: string;
  /** Extra environment for every member process (concord's test-only CONCORD_UNSAFE_* switches). */
  env?: Record<string, string>;
  /** Extra command-line flags for every member (e.g. shorter election timeouts). */
  args?: string[];
  /** Where the fault layer reports what it does (one line each); silent when absent. */
  log?: (line: string) => void;
}

/**
 * One member. Names are `m1` … `mN` and stay fixed for the life of the cluster, also across
 * removeMember/addMember (a re-added member gets a new member id but keeps its name, address and
 * URLs). URLs are full (`http://10.77.0.2:2379`); clients dial `host:port`.
 */
export interface MemberHandle {
  name: string;
  clientUrl: string;
  peerUrl: string;
  /** The process id while a process runs (also while paused), undefined while it is down. */
  pid(): number | undefined;
}

/** The kinds of fault a schedule can draw; a cluster says which of them it can inject. */
export const FAULT_KINDS = [
  /** kill -9 of one (non-leader or any) member, restart with its data dir. */
  'kill',
  /** kill -9 of the current leader, restart. */
  'kill-leader',
  /** kill -9 of a majority at once, restart them all. */
  'kill-majority',
  /** SIGSTOP of the leader, long enough for a new one to be elected, then SIGCONT. */
  'pause-leader',
  /** SIGSTOP of any one member, then SIGCONT. */
  'pause',
  /** Peer traffic split into a majority and a minority. */
  'partition-majority',
  /** The leader alone on one side. */
  'partition-leader',
  /** Two halves that talk only through one bridge member (`[[a,b,c],[c,d,e]]`). */
  'partition-bridge',
  /** Peer traffic from one member to another dropped, the reverse kept. */
  'partition-one-way',
  /** Remove a member through the Cluster API during load, then wipe it and add it back. */
  'membership',
  /** Restart a member with a failpoint armed so it crashes there, then restart it clean. */
  'failpoint',
  /** kill -9, cut the member's last WAL record short (a torn write), restart. */
  'torn-wal',
] as const;
/** One of FAULT_KINDS. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * A running cluster of real processes. Every method resolves when the fault is in effect (a
 * killed process has exited, a partition's rules are installed) and rejects only when the fault
 * layer itself failed (the harness reports that as a harness error, not a violation).
 */
export interface Cluster {
  readonly target: ClusterTarget;
  readonly members: MemberHandle[];
  /** The faults this cluster can inject (a cluster without namespaces has no partitions). */
  readonly faults: ReadonlySet<FaultKind>;
  /** `host:port` of every member's client URL, in member order. */
  clientUrls(): string[];
  /** The name of the member that believes it leads at the highest term, if any answers. */
  leader(): Promise<string | undefined>;
  /** SIGKILL; resolves once the process has exited. */
  kill(name: string): Promise<void>;
  /**
   * Starts a killed member again with its data dir and the same flags; resolves once its
   * process runs and listens on its client URL (not necessarily caught up or healthy).
   */
  restart(name: string): Promise<void>;
  /** SIGSTOP / SIGCONT. */
  pause(name: string): Promise<void>;
  resume(name: string): Promise<void>;
  /**
   * Peer traffic flows only between members that share a group; groups may overlap (a bridge)
   * and need not cover every member (one left out is isolated). Client traffic is untouched.
   * Replaces any partition in effect.
   */
  partition(groups: string[][]): Promise<void>;
  /** Drops peer traffic from `from` to `to` only (added to whatever is in effect). */
  oneWay(from: string, to: string): Promise<void>;
  /** Removes every network rule: all members talk again. */
  heal(): Promise<void>;
  /** Cluster API MemberRemove of `name` (through a live member), then stops its process. */
  removeMember(name: string): Promise<void>;
  /**
   * Cluster API MemberAdd of a removed member with its old peer URL, wipes its data dir and
   * starts it with `--initial-cluster-state existing`.
   */
  addMember(name: string): Promise<void>;
  /**
   * Restarts `name` (killing it first if it runs) with CONCORD_FAILPOINTS=`<failpoint>=crash`
   * armed, waits until it has crashed there (or a bound passes: then it is killed), then
   * restarts it clean. For etcd, which has no failpoints in Debian's build, a kill -9 at a
   * random moment and a restart.
   */
  crashAtFailpoint(name: string, failpoint: string): Promise<void>;
  /** kill -9, truncate the newest WAL segment inside its last record, restart. */
  tearWalTail(name: string): Promise<void>;
  /** Undoes every fault in effect: heal, resume, restart, re-add; resolves when all run. */
  recover(): Promise<void>;
  /** Everything `name`'s processes wrote (stdout and stderr), for a failure report. */
  logs(name: string): string;
  /** Stops every process (SIGKILL after a grace period) and removes network state. Idempotent. */
  tearDown(): Promise<void>;
}

/** The fault layer's entry point (implemented in test/chaos/cluster.ts). */
export type StartCluster = (target: ClusterTarget) => Promise<Cluster>;
