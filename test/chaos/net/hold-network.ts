// Test fixture: creates a test network, prints its tag, then ends the way argv[2] says — 'exit'
// (process.exit without tearDown), 'throw' (an uncaught error), or 'wait' (until a signal or
// SIGKILL) — so that tests can check what cleanup survives each ending.
import { TestNetwork } from './network.ts';

const how = process.argv[2] ?? 'wait';
const network = await TestNetwork.create({ names: ['m1', 'm2'] });
process.stdout.write(`${JSON.stringify({ tag: network.tag })}\n`);
if (how === 'exit') process.exit(0);
if (how === 'throw') throw new Error('hold-network: thrown on purpose');
setInterval(() => undefined, 1000);
