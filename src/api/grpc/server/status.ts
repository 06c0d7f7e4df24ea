// gRPC status codes, the error class handlers throw, and the wire encodings around them:
// percent-encoded grpc-message and grpc-timeout. Wording of framework errors follows grpc-go,
// because etcd clients (and etcd's own tests) match on the strings.

/** gRPC status codes (google.golang.org/grpc/codes). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
/** A gRPC status code. */
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** Response trailers (or headers) a handler adds to a call; `-bin` keys take Buffers. */
export type GrpcMetadata = Record<string, string | string[] | Buffer>;

/** An error that travels to the client as its status: `code`, `message` and optional trailers. */
export class GrpcError extends Error {
  override name = 'GrpcError';
  readonly code: GrpcStatus;
  readonly metadata: GrpcMetadata | undefined;

  constructor(code: GrpcStatus, message: string, metadata?: GrpcMetadata) {
    super(message);
    this.code = code;
    this.metadata = metadata;
  }
}

/** True for characters grpc-message carries as they are: printable ASCII except '%'. */
function isPlain(c: number): boolean {
  return c >= 0x20 && c <= 0x7e && c !== 0x25;
}

/** Percent-encodes a status message for the grpc-message trailer (UTF-8, then %XX). */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    if (!isPlain(message.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += isPlain(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decodes a grpc-message trailer; malformed escapes are kept as they are, as grpc-go does. */
export function decodeGrpcMessage(encoded: string): string {
  if (!encoded.includes('%')) return encoded;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded.charCodeAt(i);
    if (c === 0x25 && i + 2 < encoded.length && /^[0-9a-fA-F]{2}$/.test(encoded.slice(i + 1, i + 3))) {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(encoded[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/**
 * Parses a grpc-timeout header ("100m", "5S": at most 8 digits and a unit) into milliseconds.
 * Returns undefined when absent, NaN when malformed.
 */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const unit = TIMEOUT_UNIT_MS[value.charAt(value.length - 1)];
  const digits = value.slice(0, -1);
  if (unit === undefined || digits.length === 0 || digits.length > 8 || !/^\d+$/.test(digits)) {
    return NaN;
  }
  return Number(digits) * unit;
}

/** Status messages of the framework's own errors, worded as grpc-go words them. */
export const GrpcMessages = {
  unknownService: (service: string): string => `unknown service ${service}`,
  unknownMethod: (method: string, service: string): string =>
    `unknown method ${method} for service ${service}`,
  malformedMethod: (path: string): string => `malformed method name: ${JSON.stringify(path)}`,
  tooLarge: (size: number, max: number): string =>
    `grpc: received message larger than max (${size} vs. ${max})`,
  tooLargeDecompressed: (max: number): string =>
    `grpc: received message after decompression larger than max (${max + 1} vs. ${max})`,
  unmarshal: (detail: string): string => `grpc: error unmarshalling request: ${detail}`,
  noDecompressor: (encoding: string): string =>
    `grpc: Decompressor is not installed for grpc-encoding ${JSON.stringify(encoding)}`,
  compressedWithoutEncoding: 'grpc: compressed flag set with identity or empty encoding',
  deadlineExceeded: 'context deadline exceeded',
  cancelled: 'context canceled',
  serverClosing: 'grpc: the server has been stopped',
  badTimeout: (value: string): string => `malformed grpc-timeout: ${JSON.stringify(value)}`,
} as const;
