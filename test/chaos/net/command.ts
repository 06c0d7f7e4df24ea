// Running the system tools the fault layer drives (ip, etcdctl): asynchronously with a bound for
// normal use, synchronously for cleanup at process exit, where no promise would ever settle.
// A failed command is an Error naming the command line, its exit status and its stderr.
import { execFile, spawnSync } from 'node:child_process';

/** What a finished command printed. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** Options of `run`. */
export interface RunOptions {
  /** Written to the command's stdin (e.g. an `ip -batch -` script). */
  input?: string;
  /** Killed (SIGKILL) and failed after this long; default 30 s. */
  timeoutMs?: number;
  /** The command's environment; default this process's. */
  env?: NodeJS.ProcessEnv;
}

/** A command that exited non-zero, was killed, or could not be started. */
export class CommandError extends Error {
  constructor(
    readonly commandLine: string,
    readonly status: number | string | null,
    readonly stderr: string,
  ) {
    super(`chaos: command "${commandLine}" failed (${String(status)}): ${stderr.trim()}`);
  }
}

/** Runs `command args`; its output, or a CommandError. */
export function run(command: string, args: readonly string[], options: RunOptions = {}):
  Promise<CommandOutput> {
  const commandLine = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      {
        timeout: options.timeoutMs ?? 30_000,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        env: options.env ?? process.env,
      },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ stdout, stderr });
        const status = error.code ?? error.signal ?? null;
        reject(new CommandError(commandLine, status, stderr || error.message));
      },
    );
    // A command that exits without reading its stdin makes this write fail: not an error.
    child.stdin?.on('error', () => undefined);
    if (options.input === undefined) child.stdin?.end();
    else child.stdin?.end(options.input);
  });
}

/**
 * Runs `command args` synchronously and never throws: for cleanup in an exit handler, where
 * everything must be attempted. The error text, or undefined on success.
 */
export function runSync(command: string, args: readonly string[], input = ''): string | undefined {
  const result = spawnSync(command, args, { input, encoding: 'utf8', timeout: 30_000 });
  if (result.error !== undefined) return result.error.message;
  if (result.status !== 0) return `exit ${result.status ?? result.signal}: ${result.stderr}`;
  return undefined;
}
