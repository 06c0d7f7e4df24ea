// For tests of the test network: a small agent process per namespace that listens on TCP and
// UDP at its address and, told over stdin, connects, sends and reports, so that a test can
// check which directions really carry packets. Plain JavaScript run by `node -e`, no build step.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** The agents' TCP echo port; their UDP port is one above. */
export const PROBE_PORT = 7000;

const AGENT = String.raw`
const net = require('node:net');
const dgram = require('node:dgram');
const address = process.argv[1];
const port = Number(process.argv[2]);
const reply = (id, result) => process.stdout.write(JSON.stringify({ id, result }) + '\n');
const conns = new Map();
const heard = [];
const tcp = net.createServer((s) => { s.on('error', () => {}); s.on('data', (d) => s.write(d)); });
const udp = dgram.createSocket('udp4');
udp.on('message', (msg, from) => heard.push(from.address + ':' + msg.toString()));
let bound = 0;
const up = () => { if (++bound === 2) reply(0, 'ready'); };
tcp.listen(port, address, up);
udp.bind(port + 1, address, up);
const connect = (id, host, timeoutMs, keep) => {
  const s = net.connect({ host, port, localAddress: address });
  const timer = setTimeout(() => { s.destroy(); reply(id, 'timeout'); }, timeoutMs);
  s.once('connect', () => {
    clearTimeout(timer);
    if (keep) { conns.set(id, s); s.on('error', () => {}); reply(id, 'ok'); }
    else { s.destroy(); reply(id, 'ok'); }
  });
  s.once('error', (e) => { clearTimeout(timer); reply(id, e.code); });
};
const echo = (id, conn, timeoutMs) => {
  const s = conns.get(conn);
  if (!s || s.destroyed) return reply(id, 'closed');
  const token = 'e' + id;
  let got = '';
  const onData = (d) => { got += d; if (got.includes(token)) done('ok'); };
  const timer = setTimeout(() => done('timeout'), timeoutMs);
  const done = (r) => { clearTimeout(timer); s.off('data', onData); reply(id, r); };
  s.on('data', onData);
  s.write(token);
};
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  if (c.op === 'connect') connect(c.id, c.host, c.timeoutMs, c.keep);
  else if (c.op === 'echo') echo(c.id, c.conn, c.timeoutMs);
  else if (c.op === 'udp') udp.send(c.text, port + 1, c.host, () => reply(c.id, 'sent'));
  else if (c.op === 'heard') reply(c.id, heard.splice(0));
});
process.stdin.on('end', () => process.exit(0));
`;

/** One agent, listening at `address` inside a namespace (or the root namespace). */
export class ProbeAgent {
  readonly address: string;
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (result: unknown) => void>();
  #nextId = 1;

  private constructor(address: string, child: ChildProcess) {
    this.address = address;
    this.#child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const { id, result } = JSON.parse(line) as { id: number; result: unknown };
      this.#waiting.get(id)?.(result);
      this.#waiting.delete(id);
    });
  }

  /** Starts an agent; `enter` is the namespace's command prefix ([] for the root namespace). */
  static async start(enter: readonly string[], address: string): Promise<ProbeAgent> {
    const argv = [...enter, process.execPath, '-e', AGENT, address, String(PROBE_PORT)];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    const agent = new ProbeAgent(address, child);
    const ready = new Promise((resolve) => agent.#waiting.set(0, resolve));
    const exited = new Promise((_, reject) =>
      child.once('exit', (code) => reject(new Error(`probe agent exited (${String(code)})`))),
    );
    await Promise.race([ready, exited]);
    return agent;
  }

  /** A fresh TCP connection to `host`: 'ok', 'timeout' or the error code (ECONNREFUSED…). */
  connect(host: string, timeoutMs = 500): Promise<string> {
    return this.#ask({ op: 'connect', host, timeoutMs, keep: false }) as Promise<string>;
  }

  /** Opens a connection kept for `echo`; its id, or the failure as for connect. */
  async open(host: string, timeoutMs = 500): Promise<number> {
    const id = this.#nextId;
    const result = await this.#ask({ op: 'connect', host, timeoutMs, keep: true });
    if (result !== 'ok') throw new Error(`probe: cannot connect to ${host}: ${String(result)}`);
    return id;
  }

  /** Sends a token on an open connection: 'ok' when its echo returns in time, else 'timeout'. */
  echo(conn: number, timeoutMs = 500): Promise<string> {
    return this.#ask({ op: 'echo', conn, timeoutMs }) as Promise<string>;
  }

  /** Sends one UDP datagram `text` to the agent at `host`. */
  async udp(host: string, text: string): Promise<void> {
    await this.#ask({ op: 'udp', host, text });
  }

  /** The datagrams received since the last call, as `<sender address>:<text>`. */
  heard(): Promise<string[]> {
    return this.#ask({ op: 'heard' }) as Promise<string[]>;
  }

  /** Ends the agent and waits for it. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGKILL');
    await exited;
  }

  #ask(command: Record<string, unknown>): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  }
}
