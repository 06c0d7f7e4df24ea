// The wire encodings around status: percent-encoded grpc-message and grpc-timeout units.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeGrpcMessage,
  encodeGrpcMessage,
  GrpcStatus,
  parseGrpcTimeout,
} from '../../../src/api/grpc/server/index.ts';

test('grpc status - codes run from OK=0 to UNAUTHENTICATED=16', () => {
  assert.equal(GrpcStatus.OK, 0);
  assert.equal(GrpcStatus.RESOURCE_EXHAUSTED, 8);
  assert.equal(GrpcStatus.UNAUTHENTICATED, 16);
  assert.equal(Object.keys(GrpcStatus).length, 17);
});

test('grpc status - messages are percent-encoded as UTF-8 beyond printable ASCII and %', () => {
  assert.equal(encodeGrpcMessage('plain text: ok'), 'plain text: ok');
  assert.equal(encodeGrpcMessage('100% ü\n'), '100%25 %C3%BC%0A');
  assert.equal(decodeGrpcMessage('100%25 %C3%BC%0A'), '100% ü\n');
  assert.equal(decodeGrpcMessage('bad %zz escape'), 'bad %zz escape');
});

test('grpc status - grpc-timeout parses every unit and rejects malformed values', () => {
  assert.equal(parseGrpcTimeout(undefined), undefined);
  assert.equal(parseGrpcTimeout('2H'), 7_200_000);
  assert.equal(parseGrpcTimeout('3M'), 180_000);
  assert.equal(parseGrpcTimeout('5S'), 5000);
  assert.equal(parseGrpcTimeout('100m'), 100);
  assert.equal(parseGrpcTimeout('2500u'), 2.5);
  assert.equal(parseGrpcTimeout('1000000n'), 1);
  assert.ok(Number.isNaN(parseGrpcTimeout('123456789S')));
  assert.ok(Number.isNaN(parseGrpcTimeout('10x')));
  assert.ok(Number.isNaN(parseGrpcTimeout('S')));
});
