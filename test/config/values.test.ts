// The Go-semantics value parsers: ParseBool, ParseUint base 0, ParseDuration, etcd URLs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseEtcdUrl,
  parseGoBool,
  parseGoDuration,
  parseGoInt,
  parseUrlList,
} from '../../src/config/values.ts';

const value = <T>(r: { ok: true; value: T } | { ok: false; reason: string }): T => {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.value;
};
const reason = (r: { ok: true } | { ok: false; reason: string }): string => {
  assert.ok(!r.ok);
  return r.reason;
};

test('values - Go booleans', () => {
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) {
    assert.equal(value(parseGoBool(t)), true);
  }
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) {
    assert.equal(value(parseGoBool(f)), false);
  }
  assert.equal(reason(parseGoBool('yes')), 'parse error');
});

test('values - Go integers with base prefixes, underscores and ranges', () => {
  assert.equal(value(parseGoInt('42', 'uint')), 42);
  assert.equal(value(parseGoInt('0x2A', 'uint')), 42);
  assert.equal(value(parseGoInt('052', 'uint')), 42);
  assert.equal(value(parseGoInt('0b101010', 'uint')), 42);
  assert.equal(value(parseGoInt('0o52', 'uint')), 42);
  assert.equal(value(parseGoInt('1_000', 'uint')), 1000);
  assert.equal(value(parseGoInt('-7', 'int64')), -7);
  assert.equal(reason(parseGoInt('-7', 'uint')), 'parse error');
  assert.equal(reason(parseGoInt('08', 'uint')), 'parse error');
  assert.equal(reason(parseGoInt('', 'uint')), 'parse error');
  assert.equal(reason(parseGoInt('1__0', 'uint')), 'parse error');
  assert.equal(reason(parseGoInt('4294967296', 'uint32')), 'value out of range');
});

test('values - Go durations in milliseconds, with Go error words', () => {
  assert.equal(value(parseGoDuration('0')), 0);
  assert.equal(value(parseGoDuration('5s')), 5000);
  assert.equal(value(parseGoDuration('1h30m')), 5_400_000);
  assert.equal(value(parseGoDuration('1.5h')), 5_400_000);
  assert.equal(value(parseGoDuration('100ms')), 100);
  assert.equal(value(parseGoDuration('250us')), 0.25);
  assert.equal(value(parseGoDuration('-2m')), -120_000);
  assert.equal(reason(parseGoDuration('5')), 'time: missing unit in duration "5"');
  assert.equal(reason(parseGoDuration('1x')), 'time: unknown unit "x" in duration "1x"');
  assert.equal(reason(parseGoDuration('abc')), 'time: invalid duration "abc"');
  assert.equal(reason(parseGoDuration('')), 'time: invalid duration ""');
});

test('values - URLs by etcd rules', () => {
  assert.deepEqual(value(parseEtcdUrl(' HTTP://[::1]:2379 ')), {
    scheme: 'http',
    host: '[::1]:2379',
    hostname: '::1',
    port: '2379',
  });
  assert.equal(value(parseEtcdUrl('unix://localhost:1234')).scheme, 'unix');
  assert.match(reason(parseEtcdUrl('localhost:2379')), /URL scheme must be/);
  assert.match(reason(parseEtcdUrl('http://a')), /does not have the form "host:port"/);
  assert.match(reason(parseEtcdUrl('http://a:b')), /does not have the form "host:port"/);
  assert.match(reason(parseEtcdUrl('http://a:1/')), /must not contain a path/);
  assert.deepEqual(value(parseUrlList('http://b:1,http://a:1,http://b:1')), [
    'http://a:1',
    'http://b:1',
  ]);
  assert.match(reason(parseUrlList('')), /URL scheme must be/);
});
