import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  type ConfChange,
  type ConfState,
  ConfChangeTransition,
  ConfChangeType,
  type NodeId,
  emptyConfState,
} from '../../src/raft/messages.ts';
import {
  type ChangeResult,
  Changer,
  ConfChangeError,
  checkInvariants,
} from '../../src/raft/confchange/changer.ts';
import { restore } from '../../src/raft/confchange/restore.ts';
import {
  confChangeFromString,
  confChangesFromString,
  decodeConfChange,
  describeConfChange,
  encodeConfChange,
  enterJointOf,
  leavesJoint,
} from '../../src/raft/confchange/conf-change.ts';
import {
  ProgressTracker,
  describeProgressMap,
  describeTrackerConfig,
} from '../../src/raft/tracker/tracker.ts';

/**
 * Runs a script of configuration changes against one tracker, switching to each successful
 * result as Raft would. Blocks are separated by blank lines: a command (`simple <changes>`,
 * `enter-joint [autoleave] <changes>`, `leave-joint`), `----`, then the expected configuration
 * and progress map, or the error; `#` starts a comment line. The last index grows by one per
 * command, so `next` shows when a progress was created. The live tracker must never change
 * under a Changer.
 */
function runScript(script: string): void {
  const tracker = new ProgressTracker(10, 0);
  const show = (): string =>
    `${describeTrackerConfig(tracker.config)}\n${describeProgressMap(tracker.progress)}`.trim();
  // Lines starting with # are comments.
  const blocks = script.replace(/^#.*\n/gm, '').trim().split(/\n\s*\n/);
  blocks.forEach((block, lastIndex) => {
    const [command, want] = block.split(/\n----\n/).map((part) => part.trim());
    assert.ok(command !== undefined && want !== undefined, `malformed block: ${block}`);
    const [verb, ...args] = command.split(/\s+/);
    const changer = new Changer(tracker, lastIndex);
    const before = show();
    let got: string;
    try {
      let result: ChangeResult;
      if (verb === 'simple') {
        result = changer.simple(confChangesFromString(args.join(' ')));
      } else if (verb === 'enter-joint') {
        const autoLeave = args[0] === 'autoleave';
        const changes = confChangesFromString(args.slice(autoLeave ? 1 : 0).join(' '));
        result = changer.enterJoint(autoLeave, changes);
      } else if (verb === 'leave-joint') {
        result = changer.leaveJoint();
      } else {
        throw new Error(`unknown command ${command}`);
      }
      assert.equal(show(), before, `${command}: the live tracker must not change`);
      for (const [id, pr] of result.progress) {
        assert.notEqual(pr, tracker.progress.get(id), `${command}: progress ${id} must be a copy`);
      }
      tracker.config = result.config;
      tracker.progress = result.progress;
      got = show();
    } catch (err) {
      if (!(err instanceof ConfChangeError)) throw err;
      assert.equal(show(), before, `${command}: a failed change must not touch the tracker`);
      got = `error: ${err.message}`;
    }
    assert.equal(got, want, command);
  });
}

test('confchange - simple changes add voters one at a time and refuse two at once', () => {
  runScript(`
simple v1
----
voters=(1)
1: StateProbe match=0 next=1

simple v2
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

simple v3 v4
----
error: confchange: more than one voter changed without entering joint config

# Adding a learner alongside a voter is fine: only one voter changes.
simple v3 l4
----
voters=(1 2 3) learners=(4)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=3
4: StateProbe match=0 next=3 learner

simple v1 l4
----
voters=(1 2 3) learners=(4)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=3
4: StateProbe match=0 next=3 learner

simple r9 r0
----
voters=(1 2 3) learners=(4)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=3
4: StateProbe match=0 next=3 learner

simple r1 r2
----
error: confchange: more than one voter changed without entering joint config
`);
});

test('confchange - simple changes promote and demote, and refuse to remove the last voter', () => {
  runScript(`
simple v1
----
voters=(1)
1: StateProbe match=0 next=1

simple l2
----
voters=(1) learners=(2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1 learner

simple v2
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

simple l1
----
voters=(2) learners=(1)
1: StateProbe match=0 next=1 learner
2: StateProbe match=0 next=1

simple r2
----
error: confchange: removed all voters

simple l2
----
error: confchange: removed all voters

simple r1
----
voters=(2)
2: StateProbe match=0 next=1
`);
});

test('confchange - entering and leaving a joint config, and the errors around it', () => {
  runScript(`
enter-joint v1
----
error: confchange: can't make a zero-voter config joint

leave-joint
----
error: confchange: can't leave a non-joint config

simple v1
----
voters=(1)
1: StateProbe match=0 next=2

enter-joint v2 v3
----
voters=(1 2 3)&&(1)
1: StateProbe match=0 next=2
2: StateProbe match=0 next=3
3: StateProbe match=0 next=3

enter-joint v4
----
error: confchange: config is already joint

simple v4
----
error: confchange: can't apply simple config change in joint config

leave-joint
----
voters=(1 2 3)
1: StateProbe match=0 next=2
2: StateProbe match=0 next=3
3: StateProbe match=0 next=3

leave-joint
----
error: confchange: can't leave a non-joint config

enter-joint r1 r2 r3
----
error: confchange: removed all voters
`);
});

test('confchange - a voter removed while joint keeps its progress until leaving', () => {
  runScript(`
simple v1
----
voters=(1)
1: StateProbe match=0 next=1

simple v2
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

enter-joint autoleave r2 v3
----
voters=(1 3)&&(1 2) autoleave
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=2

leave-joint
----
voters=(1 3)
1: StateProbe match=0 next=1
3: StateProbe match=0 next=2
`);
});

test('confchange - a voter demoted while joint is staged in learnersNext until leaving', () => {
  runScript(`
simple v1
----
voters=(1)
1: StateProbe match=0 next=1

simple v2
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

enter-joint l2 v3 l4
----
voters=(1 3)&&(1 2) learners=(4) learners_next=(2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=2
4: StateProbe match=0 next=2 learner

leave-joint
----
voters=(1 3) learners=(2 4)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1 learner
3: StateProbe match=0 next=2
4: StateProbe match=0 next=2 learner
`);
});

test('confchange - a staged demotion is undone by re-adding the voter in the same change', () => {
  runScript(`
simple v1
----
voters=(1)
1: StateProbe match=0 next=1

simple v2
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

enter-joint l2 v2
----
voters=(1 2)&&(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

leave-joint
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
`);
});

test('confchange - learners are promoted while joint and a removed learner is gone at once', () => {
  runScript(`
simple v1
----
voters=(1)
1: StateProbe match=0 next=1

simple l2 l3
----
voters=(1) learners=(2 3)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1 learner
3: StateProbe match=0 next=1 learner

enter-joint v2 r3
----
voters=(1 2)&&(1)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

leave-joint
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
`);
});

test('confchange - changes keep the progress state of existing members', () => {
  const tracker = new ProgressTracker(4, 0);
  const first = new Changer(tracker, 5).simple(confChangesFromString('v1'));
  tracker.config = first.config;
  tracker.progress = first.progress;
  const pr = tracker.progress.get(1n)!;
  pr.maybeUpdate(7);
  pr.becomeReplicate();
  pr.updateOnEntriesSend(2, 10, 8);
  const next = new Changer(tracker, 9).enterJoint(false, confChangesFromString('l1 v2'));
  assert.equal(next.progress.get(1n)!.describe(), 'StateReplicate match=7 next=10 inflight=1');
  assert.equal(next.progress.get(2n)!.describe(), 'StateProbe match=0 next=9');
  assert.equal(pr.inflights.count(), 1);
  next.progress.get(1n)!.inflights.reset();
  assert.equal(pr.inflights.count(), 1, 'the copy shares no inflights with the live progress');
});

test('confchange - invariant check rejects inconsistent configurations', () => {
  const tracker = new ProgressTracker(4, 0);
  const ok = new Changer(tracker, 1).simple(confChangesFromString('v1 l2'));
  checkInvariants(ok.config, ok.progress);
  const voters = { incoming: new Set([1n, 3n]), outgoing: new Set<NodeId>() };
  const noProgress = { ...ok.config, voters };
  assert.throws(() => checkInvariants(noProgress, ok.progress), /confchange: no progress for 3/);
  const both = { ...ok.config, learners: new Set([1n, 2n]) };
  assert.throws(() => checkInvariants(both, ok.progress), /1 is in Learners and Voters\[0\]/);
  const staged = { ...ok.config, learnersNext: new Set([1n]) };
  assert.throws(
    () => checkInvariants(staged, ok.progress),
    /1 is in LearnersNext, but not Voters\[1\]/,
  );
  const auto = { ...ok.config, autoLeave: true };
  assert.throws(() => checkInvariants(auto, ok.progress), /AutoLeave must be false when not joint/);
});

// ---- restore ----

/** Random valid ConfStates: each id from a pool takes one role. */
const confStateArb: fc.Arbitrary<ConfState> = fc
  .tuple(
    fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 12 }),
    fc.array(fc.constantFrom('voter', 'both', 'outgoing', 'learner', 'learnerNext'), {
      minLength: 12,
      maxLength: 12,
    }),
    fc.boolean(),
  )
  .filter(([ids, roles]) => ids.some((_, i) => roles[i] === 'voter' || roles[i] === 'both'))
  .map(([ids, roles, autoLeave]) => {
    const cs = emptyConfState();
    ids.forEach((n, i) => {
      const id = BigInt(n);
      const role = roles[i]!;
      if (role === 'voter' || role === 'both') cs.voters.push(id);
      if (role === 'both' || role === 'outgoing' || role === 'learnerNext') {
        cs.votersOutgoing.push(id);
      }
      if (role === 'learner') cs.learners.push(id);
      if (role === 'learnerNext') cs.learnersNext.push(id);
    });
    cs.autoLeave = cs.votersOutgoing.length > 0 && autoLeave;
    return cs;
  });

const sortIds = (xs: NodeId[]): NodeId[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const normalized = (cs: ConfState): ConfState => ({
  voters: sortIds(cs.voters),
  learners: sortIds(cs.learners),
  votersOutgoing: sortIds(cs.votersOutgoing),
  learnersNext: sortIds(cs.learnersNext),
  autoLeave: cs.autoLeave,
});

test('confchange - restore rebuilds random configurations, joint ones included', () => {
  fc.assert(
    fc.property(confStateArb, fc.integer({ min: 0, max: 1000 }), (cs, lastIndex) => {
      const tracker = new ProgressTracker(8, 0);
      const result = restore(new Changer(tracker, lastIndex), cs);
      assert.equal(tracker.progress.size, 0, 'restore leaves the given tracker alone');
      checkInvariants(result.config, result.progress);
      const rebuilt = new ProgressTracker(8, 0);
      rebuilt.config = result.config;
      rebuilt.progress = result.progress;
      assert.deepEqual(rebuilt.confState(), normalized(cs));
      for (const pr of result.progress.values()) {
        assert.equal(pr.next, Math.max(lastIndex, 1));
        assert.equal(pr.recentActive, true);
      }
      // Restoring what we restored is a fixed point.
      const again = restore(new Changer(new ProgressTracker(8, 0), lastIndex), rebuilt.confState());
      assert.equal(describeTrackerConfig(again.config), describeTrackerConfig(result.config));
    }),
    { numRuns: 500 },
  );
});

test('confchange - restore of an empty ConfState is the empty configuration', () => {
  const result = restore(new Changer(new ProgressTracker(8, 0), 3), emptyConfState());
  assert.equal(describeTrackerConfig(result.config), 'voters=()');
  assert.equal(result.progress.size, 0);
});

test('confchange - restore refuses a ConfState with learners but no voters', () => {
  const cs = { ...emptyConfState(), learners: [1n] };
  assert.throws(() => restore(new Changer(new ProgressTracker(8, 0), 3), cs), /removed all voters/);
});

test('confchange - random change sequences keep the invariants and stay restorable', () => {
  const opArb = fc.record({
    kind: fc.constantFrom('simple', 'enter', 'enter-auto', 'leave'),
    changes: fc.array(
      fc.record({
        type: fc.constantFrom(...Object.values(ConfChangeType)),
        nodeId: fc.integer({ min: 1, max: 6 }).map(BigInt),
      }),
      { maxLength: 4 },
    ),
  });
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
      const tracker = new ProgressTracker(8, 0);
      for (const op of ops) {
        const changer = new Changer(tracker, 10);
        let result: ChangeResult;
        try {
          if (op.kind === 'simple') result = changer.simple(op.changes);
          else if (op.kind === 'leave') result = changer.leaveJoint();
          else result = changer.enterJoint(op.kind === 'enter-auto', op.changes);
        } catch (err) {
          if (err instanceof ConfChangeError) continue;
          throw err;
        }
        checkInvariants(result.config, result.progress);
        tracker.config = result.config;
        tracker.progress = result.progress;
        const restored = restore(new Changer(new ProgressTracker(8, 0), 10), tracker.confState());
        assert.equal(describeTrackerConfig(restored.config), describeTrackerConfig(tracker.config));
        const restoredIds = sortIds([...restored.progress.keys()]);
        assert.deepEqual(restoredIds, sortIds([...tracker.progress.keys()]));
      }
    }),
    { numRuns: 300 },
  );
});

// ---- conf change entries ----

test('confchange - enterJointOf and leavesJoint follow etcd ConfChangeV2', () => {
  const cc = (transition: ConfChangeTransition, spec: string): ConfChange => ({
    transition,
    changes: confChangesFromString(spec),
    context: new Uint8Array(0),
  });
  const cases: Array<[ConfChange, boolean, boolean, boolean]> = [
    // [change, useJoint, autoLeave, leavesJoint]
    [cc('auto', ''), false, false, true],
    [cc('auto', 'v1'), false, false, false],
    [cc('auto', 'v1 v2'), true, true, false],
    [cc('implicit', 'v1'), true, true, false],
    [cc('explicit', 'v1'), true, false, false],
    [cc('explicit', 'v1 l2'), true, false, false],
    [cc('implicit', ''), true, true, false],
    [{ ...cc('auto', ''), context: new Uint8Array([1]) }, false, false, true],
  ];
  for (const [change, useJoint, autoLeave, leaves] of cases) {
    const what = describeConfChange(change) || '(empty)';
    assert.deepEqual(enterJointOf(change), { useJoint, autoLeave }, what);
    assert.equal(leavesJoint(change), leaves, what);
  }
});

test('confchange - the encoding is etcd ConfChangeV2 protobuf', () => {
  const cc: ConfChange = {
    transition: 'explicit',
    changes: [
      { type: ConfChangeType.AddNode, nodeId: 2n },
      { type: ConfChangeType.AddLearnerNode, nodeId: 300n },
    ],
    context: new Uint8Array([1, 2]),
  };
  const bytes = [
    ...[0x08, 0x02], // transition: explicit
    ...[0x12, 0x04, 0x08, 0x00, 0x10, 0x02], // AddNode 2
    ...[0x12, 0x05, 0x08, 0x03, 0x10, 0xac, 0x02], // AddLearnerNode 300
  ];
  assert.deepEqual([...encodeConfChange(cc)], [...bytes, 0x1a, 0x02, 0x01, 0x02]);
  assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
  const leave: ConfChange = { transition: 'auto', changes: [], context: new Uint8Array(0) };
  assert.deepEqual([...encodeConfChange(leave)], [0x08, 0x00]);
  assert.deepEqual(decodeConfChange(new Uint8Array(0)), leave);
});

const confChangeArb: fc.Arbitrary<ConfChange> = fc.record({
  transition: fc.constantFrom(...Object.values(ConfChangeTransition)),
  changes: fc.array(
    fc.record({
      type: fc.constantFrom(...Object.values(ConfChangeType)),
      nodeId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    }).map(({ type, nodeId }) => ({ type, nodeId })),
    { maxLength: 8 },
  ),
  context: fc.uint8Array({ maxLength: 64 }),
}).map(({ transition, changes, context }) => ({ transition, changes, context }));

test('confchange - random conf changes survive encode and decode exactly', () => {
  fc.assert(
    fc.property(confChangeArb, (cc) => {
      const bytes = encodeConfChange(cc);
      const decoded = decodeConfChange(bytes);
      assert.deepEqual(decoded, cc);
      assert.deepEqual(encodeConfChange(decoded), bytes, 'encoding is deterministic');
    }),
    { numRuns: 1000 },
  );
});

test('confchange - decoding skips unknown fields and reports malformed input', () => {
  // Field 7 varint and field 9 bytes, then the transition.
  const withUnknown = new Uint8Array([0x38, 0x05, 0x4a, 0x01, 0xff, 0x08, 0x01]);
  assert.equal(decodeConfChange(withUnknown).transition, 'implicit');
  const malformed: Array<[number[], RegExp]> = [
    [[0x08], /truncated varint/],
    [[0x08, 0x07], /unknown transition 7/],
    [[0x12, 0x05, 0x08], /length 5 past the end/],
    [[0x12, 0x02, 0x08, 0x02], /UpdateNode changes are not supported/],
    [[0x12, 0x02, 0x08, 0x09], /unknown change type 9/],
    [[0x0a, 0x00], /field 1 has wire type 2/],
    [[0x00], /field number 0/],
    [[0x23], /unsupported wire type 3/],
    [[0x12, 0x0b, 0x10, ...Array<number>(9).fill(0xff), 0x02], /overflows 64 bits/],
  ];
  for (const [bytes, pattern] of malformed) {
    assert.throws(() => decodeConfChange(new Uint8Array(bytes)), pattern, JSON.stringify(bytes));
  }
});

test('confchange - describe and parse are inverses', () => {
  const cc: ConfChange = {
    transition: 'explicit',
    changes: confChangesFromString('v2 l3 r4'),
    context: new Uint8Array(0),
  };
  assert.equal(describeConfChange(cc), 'v2 l3 r4 transition=explicit');
  assert.deepEqual(confChangeFromString(describeConfChange(cc)), cc);
  assert.deepEqual(confChangesFromString('  v1\tl18446744073709551615 '), [
    { type: ConfChangeType.AddNode, nodeId: 1n },
    { type: ConfChangeType.AddLearnerNode, nodeId: 18446744073709551615n },
  ]);
  assert.deepEqual(confChangesFromString(''), []);
  assert.throws(() => confChangesFromString('x1'), /cannot parse change "x1"/);
  assert.throws(() => confChangesFromString('v'), /cannot parse change "v"/);
  assert.throws(() => confChangeFromString('v1 transition=sideways'), /unknown transition/);
  fc.assert(
    fc.property(confChangeArb, (random) => {
      const text = describeConfChange(random);
      assert.deepEqual(confChangeFromString(text), { ...random, context: new Uint8Array(0) });
    }),
  );
});
