// Test helpers for the transport: members on 127.0.0.1 free ports that record what they receive
// and what they are told (unreachable peers, snapshot outcomes, log lines), a polling wait, and
// throwaway TLS certificates.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { MessageType, type Message } from '../../src/raft/index.ts';
import {
  PeerTransport,
  type PeerTransportOptions,
  type TransportLimits,
} from '../../src/transport/index.ts';

/** A transport under test and what it has seen. */
export interface TestMember {
  id: bigint;
  transport: PeerTransport;
  url: string;
  received: Message[];
  unreachable: bigint[];
  snapshotStatus: Array<[bigint, boolean]>;
  logs: string[];
}

/** Limits that make reconnects quick in tests. */
export const fastLimits: Partial<TransportLimits> = { reconnectBaseMs: 10, reconnectMaxMs: 100 };

/** Starts a member's transport listening on `listenUrl` (a free port by default). */
export async function startMember(
  id: bigint,
  options: Partial<Omit<PeerTransportOptions, 'memberId'>> & { listenUrl?: string } = {},
): Promise<TestMember> {
  const member: Omit<TestMember, 'transport' | 'url'> = {
    id,
    received: [],
    unreachable: [],
    snapshotStatus: [],
    logs: [],
  };
  const { listenUrl, ...rest } = options;
  const transport = new PeerTransport({
    memberId: id,
    clusterId: 0xc1n,
    listenUrls: [listenUrl ?? 'http://127.0.0.1:0'],
    onMessages: (batch) => member.received.push(...batch),
    onSnapshot: async (_msg, body) => {
      for await (const _chunk of body) {
        // drain
      }
    },
    onUnreachable: (peer) => member.unreachable.push(peer),
    onSnapshotStatus: (peer, ok) => member.snapshotStatus.push([peer, ok]),
    log: (level, msg) => member.logs.push(`${level}: ${msg}`),
    rng: () => 0.5,
    limits: fastLimits,
    ...rest,
  });
  const [url] = await transport.start();
  return { ...member, transport, url: url! };
}

/** Makes every member a peer of every other. */
export function connectAll(members: readonly TestMember[]): void {
  for (const a of members) {
    for (const b of members) if (a !== b) a.transport.addPeer(b.id, [b.url]);
  }
}

/** Waits until every member's stream to every other is up. */
export async function waitAllActive(members: readonly TestMember[]): Promise<void> {
  await waitFor(
    () => members.every((a) => members.every((b) => a === b || a.transport.isActive(b.id))),
    'all streams active',
  );
}

/** Polls `condition` until true, or fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** An App message numbered by `index`, so order can be checked on arrival. */
export function app(from: bigint, to: bigint, index: number, dataBytes = 16): Message {
  const data = new Uint8Array(dataBytes).fill(index & 0xff);
  return {
    type: MessageType.App,
    from,
    to,
    term: 1,
    logTerm: 1,
    index,
    commit: index,
    entries: [{ term: 1, index: index + 1, type: 'Normal', data }],
  };
}

/** A port that was free a moment ago (for a member that starts later). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The indexes of the messages from `from`, in arrival order. */
export function indexesFrom(member: TestMember, from: bigint): number[] {
  return member.received.filter((m) => m.from === from).map((m) => m.index ?? -1);
}

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A throwaway CA and a certificate for 127.0.0.1 good for both server and client auth. */
export function makeCertificates(dir: string): { certFile: string; keyFile: string; trustedCaFile: string } {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=concord test CA');
  openssl(dir, 'req', ...ec, '-keyout', 'peer.key', '-out', 'peer.csr', '-subj', '/CN=concord peer');
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  openssl(
    dir, 'x509', '-req', '-in', 'peer.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'peer.crt', '-days', '1', '-extfile', 'ext.cnf',
  );
  return { certFile: join(dir, 'peer.crt'), keyFile: join(dir, 'peer.key'), trustedCaFile: join(dir, 'ca.crt') };
}
