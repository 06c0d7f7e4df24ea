// The scenario text format: blocks of `# comments`, a command line, optional input lines, `----`,
// then the exact expected output, ended by a blank line (so outputs never contain blank lines).
// Parsing keeps every line before `----` verbatim so a rewrite changes nothing but the outputs.

/** One command of a script with what it is expected to print. */
export interface Block {
  /** The 1-based line number of the command line (for error messages). */
  line: number;
  /** Every line before `----`, verbatim: blank lines, comments, the command, its input. */
  head: string[];
  /** The command line. */
  command: string;
  /** Lines between the command line and `----`. */
  input: string[];
  /** The expected output lines (empty when the command prints nothing). */
  expected: string[];
}

/** A parsed script: its blocks and whatever follows the last one (trailing comments). */
export interface Script {
  blocks: Block[];
  trailer: string[];
}

const SEPARATOR = '----';

/** Parses a script; throws an Error naming the line of the first malformed block. */
export function parseScript(text: string, name: string): Script {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const head: string[] = [];
    let commandLine = -1;
    let commandAt = -1;
    while (i < lines.length && lines[i] !== SEPARATOR) {
      const line = lines[i]!;
      if (commandLine < 0 && line.trim() !== '' && !line.startsWith('#')) {
        commandLine = i;
        commandAt = head.length;
      }
      head.push(line);
      i++;
    }
    if (i >= lines.length) {
      if (commandLine >= 0) {
        throw new Error(`${name}:${commandLine + 1}: command without "${SEPARATOR}"`);
      }
      return { blocks, trailer: head };
    }
    if (commandLine < 0) throw new Error(`${name}:${i + 1}: "${SEPARATOR}" without a command`);
    i++; // the separator
    const expected: string[] = [];
    while (i < lines.length && lines[i] !== '') expected.push(lines[i++]!);
    i++; // the blank line ending the output
    blocks.push({
      line: commandLine + 1,
      head,
      command: head[commandAt]!,
      input: head.slice(commandAt + 1),
      expected,
    });
  }
  return { blocks, trailer: [] };
}

/** The script text with each block's output replaced by `outputs[i]`. */
export function formatScript(script: Script, outputs: readonly string[][]): string {
  const parts: string[] = [];
  script.blocks.forEach((block, i) => {
    parts.push(...block.head, SEPARATOR, ...(outputs[i] ?? block.expected), '');
  });
  parts.push(...script.trailer);
  return parts.join('\n').replace(/\n*$/, '\n');
}
