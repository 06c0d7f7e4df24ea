// etcd's request checks before anything is proposed (v3rpc/key.go): empty keys, ignore_value /
// ignore_lease conflicts, txn size, and puts/deletes touching the same key in one txn.
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../../proto/index.ts';
import { etcdError } from './errors.ts';

export function checkRange(r: RangeRequest): void {
  if (r.key.length === 0) throw etcdError('emptyKey');
}

export function checkPut(r: PutRequest): void {
  if (r.key.length === 0) throw etcdError('emptyKey');
  if (r.ignoreValue && r.value.length !== 0) throw etcdError('valueProvided');
  if (r.ignoreLease && r.lease !== 0n) throw etcdError('leaseProvided');
}

export function checkDelete(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw etcdError('emptyKey');
}

/** Checks a txn and its nested ops (etcd: checkTxnRequest, then checkIntervals per branch). */
export function checkTxn(r: TxnRequest, txnOpsMax: number): void {
  checkTxnOps(r, txnOpsMax);
  checkIntervals(r.success);
  checkIntervals(r.failure);
}

function checkTxnOps(r: TxnRequest, txnOpsMax: number): void {
  const ops = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (ops > txnOpsMax) throw etcdError('tooManyOps');
  for (const c of r.compare) if (c.key.length === 0) throw etcdError('emptyKey');
  for (const op of [...r.success, ...r.failure]) checkOp(op, txnOpsMax - ops);
}

function checkOp(op: RequestOp, txnOpsMax: number): void {
  if (op.requestRange !== undefined) checkRange(op.requestRange);
  else if (op.requestPut !== undefined) checkPut(op.requestPut);
  else if (op.requestDeleteRange !== undefined) checkDelete(op.requestDeleteRange);
  else if (op.requestTxn !== undefined) checkTxnOps(op.requestTxn, txnOpsMax);
}

/** A delete's key interval, compared as byte strings (a point when rangeEnd is empty). */
interface Interval {
  start: Buffer;
  end: Buffer | undefined;
}

function contains(iv: Interval, key: Buffer): boolean {
  if (iv.end === undefined) return key.equals(iv.start);
  // NB: as etcd's string intervals: a range end of "\0" makes an empty interval here.
  return Buffer.compare(key, iv.start) >= 0 && Buffer.compare(key, iv.end) < 0;
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** etcd's checkIntervals: the same key may not be put twice, nor put and deleted, in one branch. */
function checkIntervals(ops: RequestOp[]): { puts: Map<string, Buffer>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const op of ops) {
    const d = op.requestDeleteRange;
    if (d === undefined) continue;
    dels.push({ start: toBuffer(d.key), end: d.rangeEnd.length > 0 ? toBuffer(d.rangeEnd) : undefined });
  }
  const deleted = (key: Buffer): boolean => dels.some((iv) => contains(iv, key));
  const puts = new Map<string, Buffer>();
  for (const op of ops) {
    const t = op.requestTxn;
    if (t === undefined) continue;
    const then = checkIntervals(t.success);
    const otherwise = checkIntervals(t.failure);
    for (const [k, key] of then.puts) {
      if (puts.has(k) || deleted(key)) throw etcdError('duplicateKey');
      puts.set(k, key);
    }
    for (const [k, key] of otherwise.puts) {
      // Then and else never both run: the same key in both is fine.
      if (puts.has(k) && !then.puts.has(k)) throw etcdError('duplicateKey');
      if (deleted(key)) throw etcdError('duplicateKey');
      puts.set(k, key);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    const p = op.requestPut;
    if (p === undefined) continue;
    const key = toBuffer(p.key);
    const k = key.toString('latin1');
    if (puts.has(k) || deleted(key)) throw etcdError('duplicateKey');
    puts.set(k, key);
  }
  return { puts, dels };
}
