// etcd's plain HTTP endpoints on the peer port, GET /members and GET /version, answered the way
// etcd 3.4 answers them (Go's encoding/json output, 64-bit ids as bare numbers), so tools and
// members that probe peers see the same bytes. Pure: the listener writes what these return.
import { PeerProtocol } from './limits.ts';

/** A member as GET /members lists it. */
export interface PeerMember {
  id: bigint;
  name: string;
  peerURLs: readonly string[];
  clientURLs: readonly string[];
  isLearner?: boolean;
}

/** What GET /version reports. */
export interface PeerVersion {
  etcdserver: string;
  etcdcluster: string;
}

/** A complete plain HTTP answer. */
export interface EndpointResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the endpoints read from the transport. */
export interface EndpointContext {
  clusterId: bigint;
  members(): readonly PeerMember[];
  version: PeerVersion;
}

/** The answer to a plain request on the peer port; 404 for paths that are not etcd's. */
export function answerEndpoint(method: string, path: string, ctx: EndpointContext): EndpointResponse {
  const known = path === '/members' || path === '/version';
  if (!known) return text(404, '404 page not found\n');
  if (method !== 'GET' && method !== 'HEAD') {
    const res = text(405, 'Method Not Allowed\n');
    res.headers['allow'] = 'GET';
    return res;
  }
  const body = path === '/members' ? membersJson(ctx.members()) : goJson(ctx.version) + '\n';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (path === '/members') headers[PeerProtocol.clusterIdHeader] = ctx.clusterId.toString(16);
  return { status: 200, headers, body: method === 'HEAD' ? '' : body };
}

/**
 * The /members body: etcd's Member struct through json.Encoder — field order id, peerURLs,
 * isLearner (omitted when false), name and clientURLs (omitted when empty), one trailing newline.
 */
export function membersJson(members: readonly PeerMember[]): string {
  const items = members.map((m) => {
    let s = `{"id":${m.id.toString(10)},"peerURLs":${goJson(m.peerURLs)}`;
    if (m.isLearner === true) s += ',"isLearner":true';
    if (m.name !== '') s += `,"name":${goJson(m.name)}`;
    if (m.clientURLs.length > 0) s += `,"clientURLs":${goJson(m.clientURLs)}`;
    return s + '}';
  });
  return `[${items.join(',')}]\n`;
}

/** JSON as Go's encoder writes it: like JSON.stringify, but <, > and & escaped. */
function goJson(value: unknown): string {
  const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, escape);
}

function text(status: number, body: string): EndpointResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}
