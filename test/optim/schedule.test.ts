// Learning-rate schedules at chosen times, with the expected values worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSchedule, scheduleKinds, type ScheduleSpec } from '../../src/optim/schedule.js';
import { SGD } from '../../src/optim/sgd.js';

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12 + 1e-12 * Math.abs(b), `${what}: got ${a}, expected ${b}`);

function check(spec: ScheduleSpec, table: [number, number][]): void {
  const s = createSchedule(spec);
  for (const [t, lr] of table) close(s(t), lr, `${spec.kind} at t=${t}`);
}

test('constant', () => {
  check({ kind: 'constant', lr: 0.1 }, [[0, 0.1], [7, 0.1], [1000, 0.1]]);
});

test('step: lr·gamma^floor(t/stepSize), stepSize 3, gamma 0.5', () => {
  check({ kind: 'step', lr: 0.1, stepSize: 3, gamma: 0.5 }, [[0, 0.1], [2, 0.1], [3, 0.05], [5, 0.05], [6, 0.025], [10, 0.0125]]);
  check({ kind: 'step', lr: 1, stepSize: 2 }, [[1, 1], [2, 0.1], [4, 0.01]]); // default gamma 0.1
});

test('exponential: lr·gamma^t, gamma 0.9', () => {
  check({ kind: 'exponential', lr: 0.2, gamma: 0.9 }, [[0, 0.2], [1, 0.18], [2, 0.162], [3, 0.1458]]);
});

test('cosine: minLr + (lr − minLr)(1 + cos(πt/T))/2, then minLr after T', () => {
  // lr 0.1, minLr 0.01, T 10: cos(0) = 1 → 0.1; cos(π/3) = 0.5 → 0.01 + 0.09·0.75; cos(π/2) = 0 → 0.055; cos(π) = −1 → 0.01
  check({ kind: 'cosine', lr: 0.1, tMax: 10, minLr: 0.01 }, [[0, 0.1], [10 / 3, 0.0775], [5, 0.055], [10, 0.01], [25, 0.01]]);
  check({ kind: 'cosine', lr: 0.2, tMax: 4 }, [[2, 0.1], [4, 0]]); // default minLr 0
});

test('linear warmup, then the schedule shifted by the warmup length', () => {
  // Warmup 4 from 0 to 0.1: t = 1 → 0.025, t = 2 → 0.05; then cosine(t − 4) with T = 10.
  check({ kind: 'cosine', lr: 0.1, tMax: 10, minLr: 0.01, warmup: 4 }, [[0, 0], [1, 0.025], [2, 0.05], [4, 0.1], [9, 0.055], [14, 0.01]]);
  // From warmupStart 0.02: t = 2 → 0.02 + 0.08·0.5 = 0.06; step schedule after.
  check({ kind: 'step', lr: 0.1, stepSize: 3, gamma: 0.5, warmup: 4, warmupStart: 0.02 }, [[0, 0.02], [2, 0.06], [4, 0.1], [7, 0.05]]);
});

test('spec: defaults filled in, JSON round trip gives the same schedule, usable as opt.lr', () => {
  const s = createSchedule({ kind: 'cosine', lr: 0.1, tMax: 10 });
  assert.deepEqual(s.spec, { kind: 'cosine', lr: 0.1, tMax: 10, minLr: 0, warmup: 0, warmupStart: 0 });
  const again = createSchedule(JSON.parse(JSON.stringify(s.spec)));
  for (const t of [0, 1, 2.5, 9, 11]) assert.equal(again(t), s(t));
  const opt = new SGD({ lr: 1 });
  opt.lr = s(5);
  assert.equal(opt.lr, 0.05);
  assert.deepEqual(scheduleKinds, ['constant', 'step', 'exponential', 'cosine']);
});

test('bad schedule specs and times throw naming the schedule and argument', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => createSchedule({ kind: 'linear', lr: 1 } as unknown as ScheduleSpec), /createSchedule: unknown schedule kind 'linear', expected one of constant, step, exponential, cosine/],
    [() => createSchedule({ kind: 'constant', lr: -1 }), /createSchedule\(constant\): lr must be a finite number >= 0, got -1/],
    [() => createSchedule({ kind: 'step', lr: 1 } as ScheduleSpec), /createSchedule\(step\): stepSize must be a finite number > 0, got undefined/],
    [() => createSchedule({ kind: 'cosine', lr: 1, tMax: 0 }), /createSchedule\(cosine\): tMax must be a finite number > 0, got 0/],
    [() => createSchedule({ kind: 'cosine', lr: 0.1, tMax: 5, minLr: 0.2 }), /createSchedule\(cosine\): minLr must be <= lr, got minLr 0\.2 and lr 0\.1/],
    [() => createSchedule({ kind: 'exponential', lr: 1, gamma: 0.9, T: 3 } as unknown as ScheduleSpec), /createSchedule\(exponential\): unknown option 'T'/],
    [() => createSchedule({ kind: 'constant', lr: 1, warmup: -2 }), /createSchedule\(constant\): warmup must be a finite number >= 0, got -2/],
    [() => createSchedule({ kind: 'constant', lr: 1 })(-1), /schedule\(constant\): t must be a finite number >= 0, got -1/],
  ];
  for (const [make, re] of cases) assert.throws(make, re);
});
