// A scenario command line parsed into a name, positional arguments and key=value arguments, with
// typed accessors. Values may be lists: `voters=(1,2,3)` or `voters=(1 2 3)`. Keys a command
// does not read are an error, so a typo in a script fails loudly instead of being ignored.
import type { NodeId } from '../../../src/raft/messages.ts';

const TOKEN = /\S+=\([^)]*\)|\([^)]*\)|\S+/g;

function splitList(value: string): string[] {
  const inner = value.startsWith('(') && value.endsWith(')') ? value.slice(1, -1) : value;
  return inner.split(/[\s,]+/).filter((v) => v !== '');
}

function parseId(text: string, what: string): NodeId {
  if (!/^[0-9]+$/.test(text)) throw new Error(`${what}: ${JSON.stringify(text)} is not a node id`);
  return BigInt(text);
}

function parseInt10(text: string, what: string): number {
  if (!/^-?[0-9]+$/.test(text)) {
    throw new Error(`${what}: ${JSON.stringify(text)} is not an integer`);
  }
  return Number(text);
}

/** One command of a script: `name pos1 pos2 key=value key=(a,b)` plus its input lines. */
export class Command {
  /** The command name, e.g. `deliver-msgs`. */
  readonly name: string;
  /** Arguments without `=`, in order. */
  readonly positional: string[];
  /** Lines between the command line and `----`. */
  readonly input: string[];
  readonly #named = new Map<string, string>();
  readonly #used = new Set<string>();

  constructor(line: string, input: readonly string[]) {
    const tokens = line.trim().match(TOKEN) ?? [];
    this.name = tokens[0] ?? '';
    this.positional = [];
    for (const token of tokens.slice(1)) {
      const eq = token.indexOf('=');
      if (eq <= 0) this.positional.push(token);
      else this.#named.set(token.slice(0, eq), token.slice(eq + 1));
    }
    this.input = input.slice();
  }

  /** The positional arguments as node ids (all of them must be ids). */
  ids(): NodeId[] {
    return this.positional.map((p) => parseId(p, this.name));
  }

  /** The positional argument at `i` as a node id; throws when absent. */
  id(i: number): NodeId {
    const p = this.positional[i];
    if (p === undefined) throw new Error(`${this.name}: missing node id (argument ${i + 1})`);
    return parseId(p, this.name);
  }

  /** The positional argument at `i`; throws when absent. */
  arg(i: number): string {
    const p = this.positional[i];
    if (p === undefined) throw new Error(`${this.name}: missing argument ${i + 1}`);
    return p;
  }

  /** The positional argument at `i` as an integer; throws when absent. */
  intArg(i: number): number {
    return parseInt10(this.arg(i), this.name);
  }

  has(key: string): boolean {
    return this.#named.has(key);
  }

  /** The value of `key`, or `fallback` when absent. */
  str(key: string, fallback: string): string {
    this.#used.add(key);
    return this.#named.get(key) ?? fallback;
  }

  /** The value of `key` as an integer, or `fallback` when absent. */
  int(key: string, fallback: number): number {
    this.#used.add(key);
    const v = this.#named.get(key);
    return v === undefined ? fallback : parseInt10(v, `${this.name} ${key}`);
  }

  /** The value of `key` as true/false, or `fallback` when absent. */
  bool(key: string, fallback: boolean): boolean {
    this.#used.add(key);
    const v = this.#named.get(key);
    if (v === undefined) return fallback;
    if (v !== 'true' && v !== 'false') {
      throw new Error(`${this.name} ${key}: want true or false, got ${v}`);
    }
    return v === 'true';
  }

  /** The value of `key` as a list of node ids (`(1,2,3)`), or undefined when absent. */
  idList(key: string): NodeId[] | undefined {
    this.#used.add(key);
    const v = this.#named.get(key);
    if (v === undefined) return undefined;
    return splitList(v).map((x) => parseId(x, `${this.name} ${key}`));
  }

  /** The value of `key` as a list of words, or undefined when absent. */
  list(key: string): string[] | undefined {
    this.#used.add(key);
    const v = this.#named.get(key);
    return v === undefined ? undefined : splitList(v);
  }

  /** Positional `(a,b)` groups as lists of node ids, e.g. `partition (1) (2,3)`. */
  groups(): NodeId[][] {
    return this.positional.map((p) => splitList(p).map((x) => parseId(x, this.name)));
  }

  /** Throws when the script passed a key that the command did not read. */
  checkAllUsed(): void {
    for (const key of this.#named.keys()) {
      if (!this.#used.has(key)) throw new Error(`${this.name}: unknown argument ${key}`);
    }
  }
}
