// Cleanup that must happen however this process ends: namespaces, bridges and member processes
// the fault layer created. Handlers run synchronously (no promise settles in an 'exit' handler)
// on normal exit, an uncaught error, and SIGINT/SIGTERM/SIGHUP; a SIGKILL runs nothing, which is
// what the sweeper (sweep.ts) and the members' parent-death signal are for.

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

/** Runs every registered cleanup once, newest first (the reverse of acquisition). */
function runAll(): void {
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch (error) {
      process.stderr.write(`chaos: cleanup at exit failed: ${String(error)}\n`);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  // NB: a listener replaces the default action (exit). When ours is the only one, restore the
  // default and re-raise so the process still dies of the signal; otherwise the other listener
  // (a test runner, the chaos CLI) decides how to end.
  if (process.listenerCount(signal) === 1) {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, signal);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

/**
 * Registers `cleanup` to run synchronously if the process ends before it is unregistered; the
 * returned function unregisters it (call it once the normal, asynchronous teardown is done).
 */
export function onExit(cleanup: Cleanup): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
