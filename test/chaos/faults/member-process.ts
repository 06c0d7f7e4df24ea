// One member's process across its lives: started inside its namespace, killed, paused, resumed
// and started again with the same command line. `ip netns exec` and `setpriv` both exec, so the
// spawned pid is the member's own pid and signals reach the member itself, not a wrapper.
//
// Output goes straight from the child to an append-only log file (no pipe through this process:
// a busy or dying harness never blocks or SIGPIPEs a member). Each life opens with a header line.
// A member dies with the harness: the exit handler SIGKILLs it, and `setpriv --pdeathsig KILL`
// makes the kernel do so even when the harness itself is SIGKILLed.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { onExit } from '../net/exit-cleanup.ts';

/** How a life ended: the exit code, or the signal that ended it. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What one member runs. */
export interface MemberCommand {
  /** The program and its arguments. */
  command: string;
  args: readonly string[];
  /** The whole environment of the process. */
  env: Readonly<Record<string, string>>;
  cwd?: string;
  /** Prefix entering the member's namespace, e.g. `ip netns exec <ns>`; [] for none. */
  enter: readonly string[];
  /** Where the output of every life is appended. */
  logFile: string;
}

/** Options of `MemberProcess.start`. */
export interface StartOptions {
  /** Added to (or overriding) the command's environment for this life only. */
  env?: Readonly<Record<string, string>>;
  /** Replaces the arguments from now on (e.g. a re-added member's new --initial-cluster). */
  args?: readonly string[];
}

const SETPRIV = '/usr/bin/setpriv';

/** A member process that can be started again after it ends. */
export class MemberProcess {
  readonly name: string;
  #command: MemberCommand;
  #child: ChildProcess | undefined;
  #exited: Promise<ExitStatus> | undefined;
  /** From spawn until 'exit' (or a failed spawn's 'error'). */
  #alive = false;
  #paused = false;
  #lives = 0;
  /** Byte offset in the log file where the current life's output begins. */
  #lifeOffset = 0;
  #unregister: (() => void) | undefined;

  constructor(name: string, command: MemberCommand) {
    this.name = name;
    this.#command = command;
  }

  /** The pid while a process runs (also while paused). */
  pid(): number | undefined {
    return this.running() ? this.#child!.pid : undefined;
  }

  /** True from start until the process has exited. */
  running(): boolean {
    return this.#alive;
  }

  /** True between pause() and resume() (or the process's death). */
  paused(): boolean {
    return this.running() && this.#paused;
  }

  /** The arguments the next start uses. */
  args(): readonly string[] {
    return this.#command.args;
  }

  /** Starts a new life; the member must not be running. */
  start(options: StartOptions = {}): void {
    if (this.running()) throw new Error(`chaos: member ${this.name} is already running`);
    if (options.args !== undefined) this.#command = { ...this.#command, args: options.args };
    const { command, args, enter, logFile } = this.#command;
    const env = { ...this.#command.env, ...options.env };
    const deathSignal = existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'KILL', '--'] : [];
    const argv = [...enter, ...deathSignal, command, ...args];
    const extra = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v} `).join('');
    this.#lives++;
    const header = `--- chaos: ${this.name} life ${this.#lives}: ${extra}${argv.join(' ')}`;
    appendFileSync(logFile, `\n${header}\n`);
    this.#lifeOffset = statSync(logFile).size;
    const fd = openSync(logFile, 'a');
    try {
      this.#child = spawn(argv[0]!, argv.slice(1), {
        env,
        ...(this.#command.cwd === undefined ? {} : { cwd: this.#command.cwd }),
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const child = this.#child;
    this.#alive = true;
    this.#paused = false;
    this.#exited = new Promise((resolve) => {
      const end = (status: ExitStatus): void => {
        if (this.#child === child) this.#alive = false;
        resolve(status);
      };
      child.once('exit', (code, signal) => end({ code, signal }));
      // A failure to spawn (ENOENT) reports 'error' and no 'exit'.
      child.once('error', () => end({ code: null, signal: null }));
    });
    this.#unregister?.();
    this.#unregister = onExit(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    void this.#exited.then(() => this.#unregister?.());
  }

  /** SIGKILL (a paused process too); resolves once it has exited. */
  async kill(): Promise<ExitStatus | undefined> {
    if (!this.running()) return this.#lastExit();
    this.#child!.kill('SIGKILL');
    return this.#exited;
  }

  /** SIGTERM (after SIGCONT if paused), then SIGKILL once `graceMs` has passed. */
  async stop(graceMs = 5_000): Promise<ExitStatus | undefined> {
    if (!this.running()) return this.#lastExit();
    this.#child!.kill('SIGTERM');
    if (this.#paused) this.#child!.kill('SIGCONT');
    const status = await this.waitForExit(graceMs);
    return status ?? this.kill();
  }

  /** SIGSTOP; resolves once the kernel shows the process stopped. */
  async pause(): Promise<void> {
    const pid = this.#requirePid('pause');
    this.#child!.kill('SIGSTOP');
    this.#paused = true;
    await this.#waitForState(pid, (state) => state === 'T' || state === 't', 'stopped');
  }

  /** SIGCONT; resolves once the process runs again. */
  async resume(): Promise<void> {
    const pid = this.#requirePid('resume');
    this.#child!.kill('SIGCONT');
    this.#paused = false;
    await this.#waitForState(pid, (state) => state !== 'T' && state !== 't', 'running');
  }

  /** How the current life ended, once it does within `timeoutMs`; undefined if it still runs. */
  async waitForExit(timeoutMs: number): Promise<ExitStatus | undefined> {
    if (this.#exited === undefined) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      return await Promise.race([this.#exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Everything every life wrote. */
  logs(): string {
    return existsSync(this.#command.logFile) ? readFileSync(this.#command.logFile, 'utf8') : '';
  }

  /** What the current (or last) life wrote. */
  lifeLogs(): string {
    if (!existsSync(this.#command.logFile)) return '';
    return readFileSync(this.#command.logFile).subarray(this.#lifeOffset).toString('utf8');
  }

  async #lastExit(): Promise<ExitStatus | undefined> {
    return this.#exited === undefined ? undefined : this.#exited;
  }

  #requirePid(action: string): number {
    const pid = this.pid();
    if (pid === undefined) throw new Error(`chaos: cannot ${action} ${this.name}: not running`);
    return pid;
  }

  /** Polls /proc/<pid>/stat until the process state satisfies `ok` (or the process is gone). */
  async #waitForState(pid: number, ok: (state: string) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (this.running()) {
      const state = processState(pid);
      if (state === undefined || ok(state)) return;
      if (Date.now() > deadline) throw new Error(`chaos: ${this.name} (pid ${pid}) is not ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** The state letter of /proc/<pid>/stat (R, S, D, T, Z…), undefined if the process is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may itself hold spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}
