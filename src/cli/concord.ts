// `concord`: the server. Takes etcd's flags and ETCD_* variables; with none, a one-member cluster
// on 127.0.0.1:2379 with its data in ./default.concord. SIGTERM/SIGINT: stop accepting, finish
// in-flight applies, sync, exit 0.
import { readFileSync } from 'node:fs';
import { parseConfig, isConfigError, type Config } from '../config/index.ts';
import { Member } from '../server/member.ts';
import { resolvePeerTls } from '../server/peer-tls.ts';
import { dataDirLayout, hasWal } from '../server/storage.ts';
import { startClientServers } from '../api/client-server.ts';
import { CONCORD_VERSION, ETCD_SERVER_VERSION } from '../api/version.ts';
import { jsonLogger } from './log.ts';
import { runSnapshotCommand } from './snapshot.ts';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'snapshot') return runSnapshotCommand(argv.slice(1));
  let parsed;
  try {
    const readFile = (path: string): string => readFileSync(path, 'utf8');
    // As etcd, --initial-cluster is checked against the name and peer URLs only when bootstrapping:
    // a member restarting from its data dir ignores the --initial-* flags.
    parsed = parseConfig(argv, process.env, { readFile, verifyBootstrap: false });
    if (parsed.kind === 'run' && !hasWal(dataDirLayout(parsed.config.dataDir, parsed.config.walDir))) {
      parsed = parseConfig(argv, process.env, { readFile });
    }
  } catch (err) {
    if (isConfigError(err)) {
      process.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`concord Version: ${CONCORD_VERSION}\netcd API Version: ${ETCD_SERVER_VERSION}\nNode.js Version: ${process.version}\n`);
    return 0;
  }
  const { config, warnings } = parsed;
  const log = jsonLogger(config.logLevel);
  for (const w of warnings) log('warn', w);
  let refused = false;
  for (const u of config.unsupported) {
    log(u.severity === 'refuse' ? 'error' : 'warn', u.message);
    if (u.severity === 'refuse') refused = true;
  }
  if (refused) return 1;
  return serve(config, log);
}

async function serve(config: Config, log: ReturnType<typeof jsonLogger>): Promise<number> {
  const peerTls = await resolvePeerTls(config, { log });
  const member = await Member.start({
    peerTls,
    name: config.name,
    dataDir: config.dataDir,
    walDir: config.walDir,
    advertiseClientUrls: [...config.advertiseClientUrls],
    initialAdvertisePeerUrls: [...config.initialAdvertisePeerUrls],
    listenPeerUrls: [...config.listenPeerUrls],
    strictReconfigCheck: config.strictReconfigCheck,
    initialCluster: config.initialCluster,
    initialClusterToken: config.initialClusterToken,
    initialClusterState: config.initialClusterState,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    electionTimeoutMs: config.electionTimeoutMs,
    snapshotCount: config.snapshotCount,
    snapshotsMax: config.snapshotsMax,
    walsMax: config.walsMax,
    quotaBackendBytes: config.quotaBackendBytes,
    requestBytesMax: config.requestBytesMax,
    preVote: config.preVote,
    log,
  });
  let servers;
  try {
    servers = await startClientServers(member, {
      listenUrls: config.listenClientUrls,
      requestBytesMax: config.requestBytesMax,
      txnOpsMax: config.txnOpsMax,
    });
  } catch (err) {
    await member.stop();
    throw err;
  }
  log('info', `serving client requests on ${servers.addresses.join(', ')} (member ${member.id.toString(16)}, data in ${config.dataDir})`);
  const done = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log('info', `received ${signal}: shutting down`);
      servers
        .close()
        .then(() => member.stop())
        .then(
          () => resolve(0),
          (err: unknown) => {
            log('error', `shutdown failed: ${(err as Error).message}`);
            resolve(1);
          },
        );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    // The member stops by itself when removed from the cluster (exit 0, as etcd) or on a fatal error.
    void member.done.then(({ removed, error }) => {
      if (stopping) return;
      stopping = true;
      if (error !== undefined) log('error', `member stopped: ${(error as Error).message ?? String(error)}`);
      void servers.close().finally(() => {
        void member.stop().finally(() => resolve(removed && error === undefined ? 0 : 1));
      });
    });
  });
  return done;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`concord: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
