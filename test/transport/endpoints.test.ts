// etcd's plain endpoints on the peer port, over HTTP/1.1 as etcd's members and tools call them:
// GET /members lists the members in etcd's JSON (64-bit ids as bare numbers), GET /version
// reports the server and cluster versions, anything else is 404.
import assert from 'node:assert/strict';
import http from 'node:http';
import test from 'node:test';
import { startMember } from './helpers.ts';

function get(url: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('transport - GET /members and /version answer on the peer port over HTTP/1.1', async () => {
  const a = await startMember(0x8e9e05c52164694dn, {
    members: () => [
      { id: 0x8e9e05c52164694dn, name: 'infra1', peerURLs: ['http://127.0.0.1:2380'], clientURLs: ['http://127.0.0.1:2379'] },
      { id: 0x91bc3c398fb3c146n, name: '', peerURLs: ['http://127.0.0.1:22380'], clientURLs: [], isLearner: true },
    ],
  });
  try {
    const members = await get(`${a.url}/members`);
    assert.equal(members.status, 200);
    assert.equal(members.headers['content-type'], 'application/json');
    assert.equal(members.headers['x-etcd-cluster-id'], 'c1');
    assert.equal(
      members.body,
      '[{"id":10276657743932975437,"peerURLs":["http://127.0.0.1:2380"],"name":"infra1","clientURLs":["http://127.0.0.1:2379"]},' +
        '{"id":10501334649042878790,"peerURLs":["http://127.0.0.1:22380"],"isLearner":true}]\n',
    );
    const version = await get(`${a.url}/version`);
    assert.equal(version.status, 200);
    assert.deepEqual(JSON.parse(version.body), { etcdserver: '3.4.23', etcdcluster: '3.4.0' });
    assert.equal(version.body, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}\n');
    assert.equal((await get(`${a.url}/nope`)).status, 404);
    assert.equal((await get(`${a.url}/members`, 'DELETE')).status, 405);
  } finally {
    await a.transport.close();
  }
});
