// Shared helpers for the config tests: run parseConfig and expect a Config or a ConfigError.
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/config/index.ts';
import type { Config, ConfigErrorCode, ParseOptions } from '../../src/config/index.ts';

/** Parses and expects a runnable config; returns it with its warnings. */
export function run(
  argv: string[],
  env: Record<string, string | undefined> = {},
  options: ParseOptions = {},
): { config: Config; warnings: readonly string[] } {
  const r = parseConfig(argv, env, options);
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') throw new Error('unreachable');
  return { config: r.config, warnings: r.warnings };
}

/** Parses and expects a ConfigError of `code` whose message includes every `parts`. */
export function fails(
  argv: string[],
  code: ConfigErrorCode,
  parts: string[],
  env: Record<string, string | undefined> = {},
  options: ParseOptions = {},
): ConfigError {
  try {
    parseConfig(argv, env, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const p of parts) assert.ok(err.message.includes(p), `"${err.message}" lacks "${p}"`);
    return err;
  }
  assert.fail(`expected ${code} from ${JSON.stringify(argv)}`);
}

/** The flags of one member of a 3-member cluster on 127.0.0.2-4. */
export function recipe(n: 1 | 2 | 3): string[] {
  const ip = `127.0.0.${n + 1}`;
  return [
    '--name', `n${n}`,
    '--initial-advertise-peer-urls', `http://${ip}:2380`,
    '--listen-peer-urls', `http://${ip}:2380`,
    '--listen-client-urls', `http://${ip}:2379`,
    '--advertise-client-urls', `http://${ip}:2379`,
    '--initial-cluster',
    'n1=http://127.0.0.2:2380,n2=http://127.0.0.3:2380,n3=http://127.0.0.4:2380',
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', 'token-01',
  ];
}
