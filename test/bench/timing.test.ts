/**
 * measureRow's interleaving: a subject's `settleMs` pause runs after each of its timed calls and
 * before the next implementation's call, outside both timed regions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureRow, type Subject } from '../../bench/timing.js';

test("settleMs: the next implementation's call starts at least that long after the settling one's ends, and no sample counts it", async () => {
  const events: { who: string; start: number; end: number }[] = [];
  const busy = (ms: number): void => {
    const t0 = performance.now();
    while (performance.now() - t0 < ms) { /* a timed call of about ms */ }
  };
  const subject = (who: string, ms: number, settleMs?: number): Subject => ({
    impl: who,
    settleMs,
    make: () => ({
      run: () => {
        const start = performance.now();
        busy(ms);
        events.push({ who, start, end: performance.now() });
      },
    }),
  });
  const [a, b] = await measureRow([subject('A', 2, 40), subject('B', 2)], { fullN: 1, budgetMs: 30, minReps: 3, maxReps: 4 });
  assert.equal(a.status, 'ok');
  assert.equal(b.status, 'ok');
  assert.ok(a.samples.length >= 3 && b.samples.length >= 3);
  for (const m of [a, b]) for (const s of m.samples) assert.ok(s < 30, `${m.impl}: a sample of ${s.toFixed(1)} ms includes the pause`);
  // In the timed rounds (after both calibrations), every B call follows an A call by the pause.
  const timed = events.slice(-(a.samples.length + b.samples.length));
  let checked = 0;
  for (let i = 1; i < timed.length; i++) {
    if (timed[i].who === 'B' && timed[i - 1].who === 'A') {
      assert.ok(timed[i].start - timed[i - 1].end >= 39, `B started ${(timed[i].start - timed[i - 1].end).toFixed(1)} ms after A ended`);
      checked++;
    }
  }
  assert.ok(checked >= 3, `only ${checked} A -> B transitions`);
});
