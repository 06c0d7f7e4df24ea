// /health and /version on the client port, as etcd 3.4 serves them (GET only).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Member } from '../../server/member.ts';
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from '../version.ts';

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

const corsHeaders = {
  'access-control-allow-headers': 'accept, content-type, authorization',
  'access-control-allow-methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'access-control-allow-origin': '*',
};

function send(res: Res, status: number, contentType: string, body: string): void {
  res.writeHead(status, { ...corsHeaders, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function methodNotAllowed(req: Req, res: Res): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
  res.end('Method Not Allowed');
  return true;
}

/**
 * GET /health: true when this member has published itself to the cluster, there is a leader, no
 * alarm, and a linearizable read succeeds in time.
 */
export function healthHandler(member: Member): (req: Req, res: Res) => void {
  return (req, res) => {
    if (methodNotAllowed(req, res)) return;
    const unhealthy = (): void => send(res, 503, 'text/plain; charset=utf-8', '{"health":"false"}');
    if (!member.published || member.alarms().length > 0 || member.raftStatus().leader === 0n) {
      unhealthy();
      return;
    }
    member.linearizableBarrier({ signal: AbortSignal.timeout(1000) }).then(
      () => send(res, 200, 'text/plain; charset=utf-8', '{"health":"true"}'),
      unhealthy,
    );
  };
}

/** GET /version: the etcd versions whose API this member speaks. */
export function versionHandler(): (req: Req, res: Res) => void {
  return (req, res) => {
    if (methodNotAllowed(req, res)) return;
    send(res, 200, 'application/json', JSON.stringify({ etcdserver: ETCD_SERVER_VERSION, etcdcluster: ETCD_CLUSTER_VERSION }));
  };
}
