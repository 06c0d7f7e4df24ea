// Turns a flag's text into its value by the flag's Go type, with the reason text Go's flag
// package (or etcd's own flag.Value) gives on failure. The same parser serves the command line,
// `ETCD_*` variables and the defaults, so a default can never be a value a user could not give.
import type { FlagSpec } from './flags.ts';
import { defaultOf } from './flags.ts';
import type { Parsed } from './values.ts';
import { parseGoBool, parseGoDuration, parseGoInt, parseUrlList } from './values.ts';

/** A parsed flag value: text, boolean, number (durations in ms), or a list (URLs, strings). */
export type FlagValue = string | boolean | number | readonly string[];

/** Parses `text` as the value of `spec`. */
export function parseFlagValue(spec: FlagSpec, text: string): Parsed<FlagValue> {
  switch (spec.kind) {
    case 'string':
      return { ok: true, value: text };
    case 'bool':
      return parseGoBool(text);
    case 'ignored':
      // etcd's IgnoredFlag accepts anything and only warns.
      return { ok: true, value: text };
    case 'uint':
    case 'uint64':
    case 'int':
    case 'int64':
      return parseGoInt(text, spec.kind);
    case 'uint32': {
      // etcd's own uint32 flag.Value reports strconv's error, not the flag package's words.
      const r = parseGoInt(text, 'uint32');
      if (r.ok) return r;
      const why = r.reason === 'parse error' ? 'invalid syntax' : 'value out of range';
      return { ok: false, reason: `strconv.ParseUint: parsing ${JSON.stringify(text)}: ${why}` };
    }
    case 'duration': {
      const r = parseGoDuration(text);
      return r.ok ? r : { ok: false, reason: 'parse error' };
    }
    case 'urls':
      // NB: etcd accepts '' as "no change" for its URL flags (an allowed exception).
      if (text === '') {
        const fallback = defaultOf(spec);
        return fallback === '' ? { ok: true, value: [] } : parseUrlList(fallback);
      }
      return parseUrlList(text);
    case 'cors':
      return text === '*' ? { ok: true, value: ['*'] } : parseUrlList(text);
    case 'choice':
      return spec.choices?.includes(text)
        ? { ok: true, value: text }
        : { ok: false, reason: 'invalid value' };
    case 'strings':
      return { ok: true, value: [...new Set(text.split(',').filter((s) => s !== ''))] };
  }
}

/** The value of `spec` when nobody gave it: Concord's default, parsed. */
export function defaultValue(spec: FlagSpec): FlagValue {
  const text = defaultOf(spec);
  if (spec.kind === 'urls' && text === '') return [];
  if (spec.kind === 'strings' && text === '') return [];
  const r = parseFlagValue(spec, text);
  if (!r.ok) throw new Error(`config: default of --${spec.name} does not parse: ${r.reason}`);
  return r.value;
}

/** Go's boolean-flag test: such flags take no separate argument (`--enable-v2 false` is two). */
export function isBoolFlag(spec: FlagSpec): boolean {
  return spec.kind === 'bool' || spec.kind === 'ignored';
}
