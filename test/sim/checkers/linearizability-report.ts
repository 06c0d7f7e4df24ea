// What the linearizability checker says about an illegal history, and how it reads in a test
// failure: the partition, the longest linearizable prefix the search found, the operation that
// could not be linearized in time, and the operations around it. Pure formatting, no search.
import type { Operation } from './linearizability.ts';

/** One operation near the point of failure, with its place in the longest prefix if it has one. */
export interface WindowEntry<I, O> {
  operation: Operation<I, O>;
  text: string;
  /** Position (0-based) in the longest linearizable prefix, or null if not in it. */
  prefixPosition: number | null;
}

/** Why a partition is not linearizable, as far as the search can show it. */
export interface IllegalDetails<I, O> {
  partitionIndex: number;
  /** The model's label for the partition, e.g. `key "a"`. */
  partitionLabel: string;
  partition: Operation<I, O>[];
  /** The longest sequence of operations the search could linearize, in linearization order. */
  longestPrefix: Operation<I, O>[];
  /** The model state after that prefix, described. */
  stateAfterPrefix: string;
  /** The last few operations of the prefix with the state each left behind. */
  prefixTail: { text: string; stateAfter: string }[];
  /** The operation left out of the prefix that returns first: nothing can be linearized
   * before its return that lets it take effect with the output it observed. */
  firstUnlinearizable: Operation<I, O>;
  firstUnlinearizableText: string;
  /** Operations overlapping it and a few before and after, ordered by call time. */
  window: WindowEntry<I, O>[];
}

/** Renders illegal-history details for humans, one fact a line. */
export function formatIllegal<I, O>(details: IllegalDetails<I, O>): string {
  const lines = [
    `illegal: ${details.partitionLabel} is not linearizable ` +
      `(partition ${details.partitionIndex}, ${details.partition.length} operations)`,
    `longest linearizable prefix: ${details.longestPrefix.length} of ` +
      `${details.partition.length} operations, leaving state ${details.stateAfterPrefix}`,
  ];
  if (details.prefixTail.length > 0) {
    lines.push('the prefix ends with:');
    for (const { text, stateAfter } of details.prefixTail) {
      lines.push(`  ${text}  => ${stateAfter}`);
    }
  }
  lines.push('first operation that could not be linearized:');
  lines.push(`  ${details.firstUnlinearizableText}`);
  lines.push('operations around it, by call time (position in the prefix, or "-" if not in it):');
  for (const entry of details.window) {
    const mark = entry.operation === details.firstUnlinearizable ? '>' : ' ';
    const position = entry.prefixPosition === null ? '-' : String(entry.prefixPosition);
    lines.push(`${mark} ${position.padStart(5)}  ${entry.text}`);
  }
  return lines.join('\n');
}
