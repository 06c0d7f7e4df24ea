// Shared by the in-suite chaos tests: which targets can run here, and how a run's report reaches
// the test output. A concord that cannot run clusters yet (no peer transport) makes its tests
// skip rather than fail; the etcd run then validates the harness in their place.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from './report.ts';
import { formatReport } from './report.ts';

const root = join(import.meta.dirname, '..', '..');

/** What concord prints when asked for more than one member before clustering exists. */
export const NO_CLUSTERING = /not available yet|needs clustering|peer transport/;

/** True when an error says the target cannot run clusters (yet). */
export function isClusteringMissing(err: unknown): boolean {
  return NO_CLUSTERING.test(err instanceof Error ? err.message : String(err));
}

/** True when some file under src/ mentions `text` (a test-only switch the member reads). */
export function sourceMentions(text: string): boolean {
  const walk = (dir: string): boolean => readdirSync(dir).some((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith('.ts') && readFileSync(path, 'utf8').includes(text);
  });
  return walk(join(root, 'src'));
}

/** The report, with every violation, for a test's failure message or diagnostics. */
export function reportText(report: RunReport): string {
  return formatReport(report);
}
