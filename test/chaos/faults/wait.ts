// Small waits the fault layer shares: sleeping, a TCP probe, retrying an operation the cluster
// may refuse for a while (etcd rejects reconfiguration while a member is unhealthy).
import { connect } from 'node:net';

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when a TCP connection to host:port opens within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Retries `attempt` every 500 ms until it succeeds or `timeoutMs` passes; then its last error. */
export async function retry<T>(what: string, timeoutMs: number, attempt: () => Promise<T>):
  Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`chaos: ${what} kept failing for ${timeoutMs} ms`, { cause: error });
      }
      await sleep(500);
    }
  }
}
