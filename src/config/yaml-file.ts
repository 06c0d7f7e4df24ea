// The YAML `--config-file`, with etcd 3.4's keys and types: the flag names as keys, URL lists as
// comma-separated strings, durations as integer nanoseconds (Go's time.Duration in JSON), TLS
// under `client-transport-security` / `peer-transport-security`. Values are type-checked as
// etcd's JSON decoding does; an unknown key is reported (etcd ignores it silently).
import { parse as parseYaml } from 'yaml';
import type { GivenFlag } from './argv.ts';
import { ConfigError, ConfigErrorCode } from './errors.ts';
import type { FlagValue } from './flag-value.ts';
import { parseFlagValue } from './flag-value.ts';
import type { FlagSpec } from './flags.ts';
import { FLAG_BY_NAME, FLAGS } from './flags.ts';
import { parseGoInt } from './values.ts';

/** What a config file said, keyed by flag name. */
export interface FileValues {
  readonly given: ReadonlyMap<string, GivenFlag>;
  readonly warnings: readonly string[];
}

// Flags with no top-level key in etcd 3.4's file format.
const NOT_IN_FILE = new Set([
  'config-file',
  'version',
  'client-crl-file',
  'client-cert-allowed-hostname',
  'peer-crl-file',
  'peer-cert-allowed-cn',
  'peer-cert-allowed-hostname',
  'experimental-peer-skip-client-san-verification',
  ...['cert-file', 'key-file', 'client-cert-auth', 'trusted-ca-file', 'auto-tls'],
  ...['peer-cert-file', 'peer-key-file', 'peer-client-cert-auth', 'peer-trusted-ca-file'],
  'peer-auto-tls',
]);

// `<side>-transport-security` sub-keys → the flag each sets, per side.
const SECURITY_KEYS: Record<string, Record<string, string>> = {
  'client-transport-security': {
    'cert-file': 'cert-file',
    'key-file': 'key-file',
    'client-cert-auth': 'client-cert-auth',
    'trusted-ca-file': 'trusted-ca-file',
    'auto-tls': 'auto-tls',
  },
  'peer-transport-security': {
    'cert-file': 'peer-cert-file',
    'key-file': 'peer-key-file',
    'client-cert-auth': 'peer-client-cert-auth',
    'trusted-ca-file': 'peer-trusted-ca-file',
    'auto-tls': 'peer-auto-tls',
  },
};

/** Parses the text of config file `path` into flag values. */
export function parseConfigFile(text: string, path: string): FileValues {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw fileError(path, `error converting YAML to JSON: ${detail}`, err);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isRecord(doc)) throw fileError(path, 'the file must hold a mapping of etcd config keys');
  const given = new Map<string, GivenFlag>();
  const warnings: string[] = [];
  for (const [key, raw] of Object.entries(doc)) {
    if (raw === null || raw === undefined) continue;
    const security = SECURITY_KEYS[key];
    if (security !== undefined) {
      if (!isRecord(raw)) throw typeError(path, key, raw, 'object');
      for (const [sub, subRaw] of Object.entries(raw)) {
        const flag = security[sub];
        if (flag === undefined) warnings.push(unknownKey(path, `${key}.${sub}`));
        else if (subRaw !== null && subRaw !== undefined) {
          const v = fileValue(path, `${key}.${sub}`, FLAG_BY_NAME.get(flag)!, subRaw);
          if (v !== undefined) given.set(flag, v);
        }
      }
      continue;
    }
    const spec = FLAG_BY_NAME.get(key);
    if (spec === undefined || NOT_IN_FILE.has(key) || spec.kind === 'ignored') {
      warnings.push(unknownKey(path, key));
      continue;
    }
    const v = fileValue(path, key, spec, raw);
    if (v !== undefined) given.set(key, v);
  }
  return { given, warnings };
}

/**
 * One value from the file, checked against the Go type etcd decodes it into; undefined where
 * etcd keeps the default (an empty URL list, CORS or host whitelist).
 */
function fileValue(
  path: string,
  key: string,
  spec: FlagSpec,
  raw: unknown,
): GivenFlag | undefined {
  switch (spec.kind) {
    case 'string':
      if (typeof raw !== 'string') throw typeError(path, key, raw, 'string');
      return { text: raw, value: raw };
    case 'bool':
      if (typeof raw !== 'boolean') throw typeError(path, key, raw, 'bool');
      return { text: String(raw), value: raw };
    case 'uint':
    case 'uint32':
    case 'uint64':
    case 'int':
    case 'int64':
    case 'duration':
      return { text: String(raw), value: fileNumber(path, key, spec, raw) };
    case 'strings':
      if (key === 'host-whitelist') return fileWhitelist(path, key, raw);
      return { text: String(raw), value: fileStrings(path, key, raw) };
    case 'urls':
    case 'cors':
    case 'choice': {
      if (typeof raw !== 'string') throw typeError(path, key, raw, 'string');
      if (raw === '' && spec.kind !== 'choice') return undefined;
      // etcd checks the cluster state later, in validation, with its own message.
      if (key === 'initial-cluster-state') return { text: raw, value: raw };
      const parsed = parseFlagValue(spec, raw);
      if (!parsed.ok) {
        throw fileError(path, `unexpected error setting up ${key}: ${parsed.reason}`);
      }
      return { text: raw, value: parsed.value };
    }
    case 'ignored':
      throw new Error(`config: ignored flag ${key} has no file key`);
  }
}

function fileNumber(path: string, key: string, spec: FlagSpec, raw: unknown): number {
  if (typeof raw !== 'number') throw typeError(path, key, raw, spec.kind);
  const intKind = spec.kind === 'duration' ? 'int64' : spec.kind;
  if (intKind === 'string' || intKind === 'bool' || !Number.isInteger(raw)) {
    throw typeError(path, key, raw, spec.kind);
  }
  const parsed = parseGoInt(String(raw), intKind as Parameters<typeof parseGoInt>[1]);
  if (!parsed.ok) throw typeError(path, key, raw, spec.kind);
  // time.Duration in JSON is nanoseconds; Concord keeps milliseconds.
  return spec.kind === 'duration' ? parsed.value / 1e6 : parsed.value;
}

// host-whitelist is a comma-separated string in the file; the other string flags are YAML lists.
function fileWhitelist(path: string, key: string, raw: unknown): GivenFlag | undefined {
  if (typeof raw !== 'string') throw typeError(path, key, raw, 'string');
  if (raw === '') return undefined;
  return { text: raw, value: [...new Set(raw.split(',').filter((s) => s !== ''))] };
}

function fileStrings(path: string, key: string, raw: unknown): FlagValue {
  if (!Array.isArray(raw) || !raw.every((s) => typeof s === 'string')) {
    throw typeError(path, key, raw, '[]string');
  }
  return [...new Set(raw as string[])];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

function typeError(path: string, key: string, raw: unknown, goType: string): ConfigError {
  const shown = typeof raw === 'number' ? `number ${raw}` : jsonKind(raw);
  const type = goType === 'duration' ? 'time.Duration (integer nanoseconds)' : goType;
  return fileError(path, `cannot unmarshal ${shown} into field "${key}" of type ${type}`);
}

function fileError(path: string, detail: string, cause?: unknown): ConfigError {
  const message = `config file ${JSON.stringify(path)}: ${detail}`;
  return new ConfigError(ConfigErrorCode.File, message, cause === undefined ? {} : { cause });
}

function unknownKey(path: string, key: string): string {
  return `config file ${JSON.stringify(path)}: unknown key ${JSON.stringify(key)} ignored`;
}

/** The top-level keys etcd 3.4's config file understands (for documentation and tests). */
export const FILE_KEYS: readonly string[] = [
  ...FLAGS.filter((s) => s.kind !== 'ignored' && !NOT_IN_FILE.has(s.name)).map((s) => s.name),
  ...Object.keys(SECURITY_KEYS),
];
