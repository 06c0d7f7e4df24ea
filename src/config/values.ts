// Value parsers with Go's semantics, because etcd's flags are Go flags: `strconv.ParseBool`,
// `strconv.ParseUint(s, 0, …)` (so `0x10` and `010` are numbers), `time.ParseDuration`, and
// etcd's URL list rules (`pkg/types.NewURLs`). Each returns a result, never throws; the caller
// wraps the reason in etcd's sentence (`invalid value "x" for flag -name: parse error`).
import { isIP } from 'node:net';

/** A parse result: the value, or Go's reason text. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (reason: string): Parsed<never> => ({ ok: false, reason });

/** Go's `strconv.ParseBool`. */
export function parseGoBool(s: string): Parsed<boolean> {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return ok(true);
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return ok(false);
  return fail('parse error');
}

/** Integer widths the flags use, as Go types. */
export type IntKind = 'uint' | 'uint32' | 'int' | 'int64' | 'uint64';

const INT_RANGE: Record<IntKind, [bigint, bigint]> = {
  uint: [0n, 2n ** 64n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int: [-(2n ** 63n), 2n ** 63n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
};

/**
 * Go's `strconv.Parse{Int,Uint}(s, 0, bits)`: base from the prefix (`0x`, `0o`, `0b`, a leading
 * `0` for octal), underscores between digits allowed. Reasons are the flag package's words
 * (`parse error`, `value out of range`).
 */
export function parseGoInt(s: string, kind: IntKind): Parsed<number> {
  const [min, max] = INT_RANGE[kind];
  let body = s;
  let negative = false;
  if (min < 0n && (body.startsWith('-') || body.startsWith('+'))) {
    negative = body.startsWith('-');
    body = body.slice(1);
  }
  const digits = goDigits(body);
  if (digits === undefined) return fail('parse error');
  const magnitude = BigInt(digits);
  const value = negative ? -magnitude : magnitude;
  if (value < min || value > max) return fail('value out of range');
  return ok(Number(value));
}

/** The literal `body` (unsigned, Go base-0 syntax) as a JS BigInt literal, or undefined. */
function goDigits(body: string): string | undefined {
  const prefixed = /^0([xXoObB])(.*)$/.exec(body);
  let prefix = '';
  let rest = body;
  let digitRe = /^[0-9]$/;
  if (prefixed) {
    const p = prefixed[1]!.toLowerCase();
    prefix = `0${p}`;
    rest = prefixed[2]!;
    digitRe = p === 'x' ? /^[0-9a-fA-F]$/ : p === 'o' ? /^[0-7]$/ : /^[01]$/;
  } else if (body.length > 1 && body.startsWith('0')) {
    prefix = '0o';
    rest = body.slice(1);
    digitRe = /^[0-7]$/;
  }
  // Underscores only between digits (or after a prefix), as Go's underscoreOK requires.
  if (rest === '' || rest.endsWith('_') || rest.includes('__')) return undefined;
  if (rest.startsWith('_') && prefix === '') return undefined;
  const clean = rest.replaceAll('_', '');
  if (clean === '' || ![...clean].every((c) => digitRe.test(c))) return undefined;
  return prefix + clean;
}

const DURATION_UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's `time.ParseDuration`, in milliseconds; reasons are Go's (`time: unknown unit …`). */
export function parseGoDuration(s: string): Parsed<number> {
  const quoted = JSON.stringify(s);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return ok(0);
  if (rest === '') return fail(`time: invalid duration ${quoted}`);
  let totalMs = 0;
  while (rest !== '') {
    const num = /^([0-9]*)(\.[0-9]*)?/.exec(rest)!;
    const text = num[0];
    if (text === '' || text === '.' || !/[0-9]/.test(text)) {
      return fail(`time: invalid duration ${quoted}`);
    }
    rest = rest.slice(text.length);
    const unit = /^[^0-9.]*/.exec(rest)![0];
    if (unit === '') return fail(`time: missing unit in duration ${quoted}`);
    const scale = DURATION_UNIT_MS[unit];
    if (scale === undefined) {
      return fail(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    }
    rest = rest.slice(unit.length);
    totalMs += Number(text) * scale;
  }
  return ok(sign * totalMs);
}

/** A URL as etcd keeps it: scheme and `host:port` only (etcd rejects paths). */
export interface ParsedUrl {
  scheme: string;
  host: string;
  hostname: string;
  port: string;
}

/** Go's `net.SplitHostPort` for `host`, or the reason it fails. */
export function splitHostPort(host: string): Parsed<{ hostname: string; port: string }> {
  const missingPort = `address ${host}: missing port in address`;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return fail(`address ${host}: missing ']' in address`);
    if (host[end + 1] !== ':') return fail(missingPort);
    return ok({ hostname: host.slice(1, end), port: host.slice(end + 2) });
  }
  const colon = host.lastIndexOf(':');
  if (colon < 0) return fail(missingPort);
  const hostname = host.slice(0, colon);
  if (hostname.includes(':')) return fail(`address ${host}: too many colons in address`);
  return ok({ hostname, port: host.slice(colon + 1) });
}

/** One URL by etcd's rules (`pkg/types.NewURLs`): scheme, `host:port`, no path. */
export function parseEtcdUrl(input: string): Parsed<ParsedUrl> {
  const s = input.trim();
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(s);
  const scheme = schemeMatch ? schemeMatch[1]!.toLowerCase() : '';
  const rest = schemeMatch ? schemeMatch[2]! : s;
  if (!['http', 'https', 'unix', 'unixs'].includes(scheme)) {
    return fail(`URL scheme must be http, https, unix, or unixs: ${s}`);
  }
  let host = '';
  let path = rest;
  if (rest.startsWith('//')) {
    const authorityEnd = rest.slice(2).search(/[/?#]/);
    const authority = authorityEnd < 0 ? rest.slice(2) : rest.slice(2, 2 + authorityEnd);
    path = authorityEnd < 0 ? '' : rest.slice(2 + authorityEnd);
    host = authority.slice(authority.lastIndexOf('@') + 1);
  }
  path = path.replace(/[?#].*$/s, '');
  const split = splitHostPort(host);
  if (!split.ok || !/^[0-9]*$/.test(split.value.port)) {
    return fail(`URL address does not have the form "host:port": ${s}`);
  }
  if (path !== '') return fail(`URL must not contain a path: ${s}`);
  return ok({ scheme, host, ...split.value });
}

/** The canonical text of a parsed URL (what etcd's `url.String()` gives for these URLs). */
export function formatUrl(u: ParsedUrl): string {
  return `${u.scheme}://${u.host}`;
}

/**
 * A comma-separated URL list by etcd's rules, de-duplicated and sorted as etcd's `UniqueURLs`
 * keeps it. An empty string is one empty URL, which fails, as in etcd.
 */
export function parseUrlList(s: string): Parsed<string[]> {
  const out = new Set<string>();
  for (const part of s.split(',')) {
    const u = parseEtcdUrl(part);
    if (!u.ok) return u;
    out.add(formatUrl(u.value));
  }
  return ok([...out].sort());
}

/** True when `hostname` is an IP literal or `localhost` (etcd's rule for listen URLs). */
export function isBindableHost(hostname: string): boolean {
  return hostname === 'localhost' || isIP(hostname) !== 0;
}
