// Log lines as etcd writes them: one JSON object per line on stderr, filtered by --log-level.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const rank: Record<string, number> = { debug: 0, info: 1, warn: 2, error: 3, panic: 4, fatal: 5 };

/** A logger writing JSON lines at or above `level`. */
export function jsonLogger(level: string, out: NodeJS.WritableStream = process.stderr): (lvl: LogLevel, msg: string) => void {
  const min = rank[level] ?? 1;
  return (lvl, msg) => {
    if ((rank[lvl] ?? 1) < min) return;
    out.write(`${JSON.stringify({ level: lvl, ts: new Date().toISOString(), caller: 'concord', msg })}\n`);
  };
}
