// Compiles the message descriptors of schema.ts into specialised JS functions (one generated
// module, like protobufjs's codegen): size, write (backward, into an exactly sized buffer) and
// decode per message. Proto3 rules: defaults are not written, oneof members are written whenever
// set, repeated scalars are written packed and read packed or not, unknown fields are skipped.
import { messageSchemas } from './schema.ts';
import type { FieldSchema, MessageSchema } from './schema.ts';
import * as wire from './wire.ts';

/** The compiled functions of one message type. */
export interface CompiledMessage {
  /** Encoded size in bytes. */
  size(msg: object): number;
  /** Writes the message so that it ends at `end`; returns where it starts. */
  write(msg: object, buf: Buffer, end: number): number;
  /** Decodes from `r.pos` to `end`; `depth` counts nesting (bounded against stack exhaustion). */
  decode(r: wire.Reader, end: number, depth: number): object;
}

/** Deepest message nesting a decode accepts (Txn within Txn...), as protobufjs's recursion limit. */
export const DECODE_DEPTH_MAX = 100;

const WIRE_TYPE: Readonly<Record<FieldSchema['kind'], number>> = {
  bytes: 2,
  string: 2,
  message: 2,
  bool: 0,
  int32: 0,
  uint32: 0,
  enum: 0,
  int64Number: 0,
  uint64Number: 0,
  int64Bigint: 0,
  uint64Bigint: 0,
};

function tagBytes(id: number, wireType: number): number[] {
  const out: number[] = [];
  let v = (id << 3) | wireType;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function isPacked(f: FieldSchema): boolean {
  return f.repeated && WIRE_TYPE[f.kind] === 0;
}

/** JS expression: the value is worth writing (proto3 skips defaults; oneof members only if set). */
function presentExpr(f: FieldSchema, v: string): string {
  if (f.kind === 'message') return `${v}!==undefined&&${v}!==null`;
  if (f.oneof !== undefined) return `${v}!==undefined`;
  switch (f.kind) {
    case 'bytes':
    case 'string':
      return `${v}!==undefined&&${v}.length!==0`;
    case 'bool':
      return `${v}===true`;
    case 'int64Bigint':
    case 'uint64Bigint':
      return `${v}!==undefined&&${v}!==0n`;
    default:
      return `${v}!==undefined&&${v}!==0`;
  }
}

/** JS expression: bytes of a scalar's payload (no tag). */
function scalarSizeExpr(f: FieldSchema, v: string): string {
  switch (f.kind) {
    case 'bytes':
    case 'string':
      return `h.sizeBytes(${v})`;
    case 'bool':
      return '1';
    case 'int32':
    case 'enum':
      return `h.sizeInt32(${v})`;
    case 'uint32':
      return `h.sizeVarint32(${v}>>>0)`;
    case 'int64Number':
    case 'uint64Number':
      return `h.sizeNumber64(${v})`;
    case 'int64Bigint':
    case 'uint64Bigint':
      return `h.sizeBigint64(${v})`;
    case 'message':
      throw new Error('unreachable');
  }
}

/** JS statement: writes a scalar's payload ending at p. */
function scalarWriteStmt(f: FieldSchema, v: string): string {
  switch (f.kind) {
    case 'bytes':
    case 'string':
      return `p=h.writeBytesBack(b,p,${v});`;
    case 'bool':
      return `b[--p]=${v}?1:0;`;
    case 'int32':
    case 'enum':
      return `p=h.writeInt32Back(b,p,${v});`;
    case 'uint32':
      return `p=h.writeVarint32Back(b,p,${v}>>>0);`;
    case 'int64Number':
    case 'uint64Number':
      return `p=h.writeNumber64Back(b,p,${v});`;
    case 'int64Bigint':
    case 'uint64Bigint':
      return `p=h.writeBigint64Back(b,p,${v});`;
    case 'message':
      throw new Error('unreachable');
  }
}

/** JS expression: reads one scalar value. */
function scalarReadExpr(f: FieldSchema): string {
  switch (f.kind) {
    case 'bytes':
      return 'h.readBytes(r,end)';
    case 'string':
      return 'h.readString(r,end)';
    case 'bool':
      return 'h.readVarint32(r)!==0';
    case 'int32':
    case 'enum':
      return 'h.readVarint32(r)|0';
    case 'uint32':
      return 'h.readVarint32(r)';
    case 'int64Number':
      return 'h.readInt64Number(r)';
    case 'uint64Number':
      return 'h.readUint64Number(r)';
    case 'int64Bigint':
      return 'h.readInt64Bigint(r)';
    case 'uint64Bigint':
      return 'h.readUint64Bigint(r)';
    case 'message':
      throw new Error('unreachable');
  }
}

function defaultExpr(f: FieldSchema): string {
  if (f.repeated) return '[]';
  if (f.kind === 'message' || f.oneof !== undefined) return 'undefined';
  switch (f.kind) {
    case 'bytes':
      return 'E';
    case 'string':
      return "''";
    case 'bool':
      return 'false';
    case 'int64Bigint':
    case 'uint64Bigint':
      return '0n';
    default:
      return '0';
  }
}

function genSize(index: number, msg: MessageSchema, ref: (t: string) => number): string {
  let body = '';
  for (const f of msg.fields) {
    const t = tagBytes(f.id, f.repeated && isPacked(f) ? 2 : WIRE_TYPE[f.kind]).length;
    const v = `m.${f.jsName}`;
    if (f.kind === 'message') {
      const s = `S${ref(f.typeName!)}`;
      body += f.repeated
        ? `v=${v};if(v!==undefined)for(i=0;i<v.length;i++){l=${s}(v[i]);n+=${t}+h.sizeVarint32(l)+l;}`
        : `v=${v};if(${presentExpr(f, 'v')}){l=${s}(v);n+=${t}+h.sizeVarint32(l)+l;}`;
    } else if (isPacked(f)) {
      body += `v=${v};if(v!==undefined&&v.length!==0){l=0;`;
      body += `for(i=0;i<v.length;i++)l+=${scalarSizeExpr(f, 'v[i]')};n+=${t}+h.sizeVarint32(l)+l;}`;
    } else if (f.repeated) {
      body += `v=${v};if(v!==undefined)for(i=0;i<v.length;i++)n+=${t}+${scalarSizeExpr(f, 'v[i]')};`;
    } else {
      body += `v=${v};if(${presentExpr(f, 'v')})n+=${t}+${scalarSizeExpr(f, 'v')};`;
    }
    body += '\n';
  }
  return `function S${index}(m){let n=0,v,l,i;\n${body}return n;}\n`;
}

function genWrite(index: number, msg: MessageSchema, ref: (t: string) => number): string {
  let body = '';
  for (const f of [...msg.fields].reverse()) {
    const tag = tagBytes(f.id, f.repeated && isPacked(f) ? 2 : WIRE_TYPE[f.kind])
      .reverse()
      .map((x) => `b[--p]=${x};`)
      .join('');
    const v = `m.${f.jsName}`;
    if (f.kind === 'message') {
      const w = `W${ref(f.typeName!)}`;
      const one = `e=p;p=${w}(x,b,p);p=h.writeVarint32Back(b,p,e-p);${tag}`;
      body += f.repeated
        ? `v=${v};if(v!==undefined)for(i=v.length-1;i>=0;i--){x=v[i];${one}}`
        : `x=${v};if(${presentExpr(f, 'x')}){${one}}`;
    } else if (isPacked(f)) {
      body += `v=${v};if(v!==undefined&&v.length!==0){e=p;`;
      body += `for(i=v.length-1;i>=0;i--){x=v[i];${scalarWriteStmt(f, 'x')}}`;
      body += `p=h.writeVarint32Back(b,p,e-p);${tag}}`;
    } else if (f.repeated) {
      body += `v=${v};if(v!==undefined)for(i=v.length-1;i>=0;i--){x=v[i];`;
      body += `${scalarWriteStmt(f, 'x')}${tag}}`;
    } else {
      body += `x=${v};if(${presentExpr(f, 'x')}){${scalarWriteStmt(f, 'x')}${tag}}`;
    }
    body += '\n';
  }
  return `function W${index}(m,b,p){let v,x,e,i;\n${body}return p;}\n`;
}

function genDecode(index: number, msg: MessageSchema, ref: (t: string) => number): string {
  const init = msg.fields.map((f) => `${f.jsName}:${defaultExpr(f)}`).join(',');
  let cases = '';
  for (const f of msg.fields) {
    const m = `m.${f.jsName}`;
    const tag = (f.id << 3) | WIRE_TYPE[f.kind];
    if (f.kind === 'message') {
      const read = `D${ref(f.typeName!)}(r,r.pos+l,d+1)`;
      const store = f.repeated ? `${m}.push(${read})` : `${m}=${read}`;
      cases += `case ${tag}:{const l=h.readLength(r,end);${store};break;}\n`;
    } else if (f.repeated) {
      cases += `case ${tag}:${m}.push(${scalarReadExpr(f)});break;\n`;
      if (isPacked(f)) {
        cases += `case ${(f.id << 3) | 2}:{const l=h.readLength(r,end);const e2=r.pos+l;`;
        cases += `while(r.pos<e2)${m}.push(${scalarReadExpr(f)});break;}\n`;
      }
    } else {
      cases += `case ${tag}:${m}=${scalarReadExpr(f)};break;\n`;
    }
  }
  return (
    `function D${index}(r,end,d){if(d>${DECODE_DEPTH_MAX})throw new h.ProtoDecodeError(` +
    `'proto: max nesting depth exceeded');const b=r.buf;const m={${init}};\n` +
    `while(r.pos<end){let t=b[r.pos];if(t!==undefined&&t<128)r.pos++;else t=h.readVarint32(r);\n` +
    `switch(t){\n${cases}default:h.skipField(r,t,end);}}\n` +
    `if(r.pos!==end)throw new h.ProtoDecodeError('proto: ${msg.fullName}: field overruns its message');` +
    `return m;}\n`
  );
}

function compileAll(): Map<string, CompiledMessage> {
  const names = [...messageSchemas.keys()];
  const indexOf = new Map(names.map((n, i) => [n, i]));
  const ref = (t: string): number => {
    const i = indexOf.get(t);
    if (i === undefined) throw new Error(`proto: unknown message type ${t}`);
    return i;
  };
  let src = '"use strict";\n';
  names.forEach((name, i) => {
    const msg = messageSchemas.get(name)!;
    src += genSize(i, msg, ref) + genWrite(i, msg, ref) + genDecode(i, msg, ref);
  });
  src += `return [${names.map((_, i) => `{size:S${i},write:W${i},decode:D${i}}`).join(',')}];`;
  // NB: generated code (as protobufjs does) so that V8 sees monomorphic, unrolled field access.
  const factory = new Function('h', 'E', src) as (h: typeof wire, e: Buffer) => CompiledMessage[];
  const compiled = factory(wire, Buffer.alloc(0));
  return new Map(names.map((n, i) => [n, compiled[i]!]));
}

/** Compiled codecs of every message of the API, by full name. */
export const compiledMessages: ReadonlyMap<string, CompiledMessage> = compileAll();
