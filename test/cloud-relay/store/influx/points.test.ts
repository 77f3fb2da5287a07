import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import type { StoredAlarmEvent, StoredReading } from '../../../../cloud-relay/store/history-store.ts';
import { alarmEventPoint, readingLine, readingPoint, toLines } from '../../../../cloud-relay/store/influx/points.ts';

describe('line protocol of stored records', () => {
  it('writes a reading with its tags, float fields, clock quality and ms timestamp, leaving nulls out', () => {
    const [full, empty] = toLines(
      [
        { gatewayId: 'gw-bed-01', patientId: 'P-7', t: 1_763_000_000_123, clockQuality: 'synced', hr: 72, spo2: 97.5, pi: 2.1, sqi: 0.93 },
        {
          gatewayId: 'gw-bed-01',
          patientId: 'P-7',
          t: 1_763_000_001_123,
          clockQuality: 'unsynced',
          hr: null,
          spo2: null,
          pi: null,
          sqi: 0,
        },
      ],
      readingPoint,
    );
    // Fields are floats (no `i` suffix) even when whole, so a 72 never fixes the field type to integer.
    assert.equal(full, 'reading,gateway_id=gw-bed-01,patient_id=P-7 clock_quality="synced",hr=72,pi=2.1,spo2=97.5,sqi=0.93 1763000000123');
    assert.equal(empty, 'reading,gateway_id=gw-bed-01,patient_id=P-7 clock_quality="unsynced",sqi=0 1763000001123');
  });

  it('escapes text fields so quotes, backslashes, commas and spaces survive', () => {
    const event: StoredAlarmEvent = {
      gatewayId: 'gw-bed-01',
      patientId: 'P-7',
      t: 1_763_000_000_000,
      mono: 5000,
      alarmId: 'alarm-0000000001',
      rule: 'hr-high',
      event: 'raised',
      kind: 'physiological',
      priority: 'medium',
      value: 151,
      limit: 150,
      unit: '/min',
      message: 'HR "151" \\ above, limit=150',
    };
    assert.equal(
      toLines([event], alarmEventPoint)[0],
      'alarm_event,event=raised,gateway_id=gw-bed-01,patient_id=P-7,rule=hr-high ' +
        'alarm_id="alarm-0000000001",kind="physiological",limit_value=150,message="HR \\"151\\" \\\\ above, limit=150",mono=5000i,priority="medium",unit="/min",value=151 ' +
        '1763000000000',
    );
  });

  it('refuses a non-finite number instead of writing a hole', () => {
    assert.throws(() =>
      toLines(
        [
          {
            gatewayId: 'gw-bed-01',
            patientId: 'P-7',
            t: 1,
            clockQuality: 'synced',
            hr: Number.POSITIVE_INFINITY,
            spo2: null,
            pi: null,
            sqi: 1,
          },
        ],
        readingPoint,
      ),
    );
  });
});

// A small deterministic generator, so a failure names a reproducible case.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const AWKWARD = [' ', ',', '=', '"', '\\', '\n', '\t', '\r', 'é', '💓', 'a', 'Z', '-', '_', '0'];

test('readingLine equals Point.toLineProtocol for readings with awkward ids, nulls and extreme numbers', () => {
  const next = random(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T;
  const text = (max: number) => Array.from({ length: Math.floor(next() * max) }, () => pick(AWKWARD)).join('');
  const number = () => pick([0, -0, 1, 72, 97.5, 0.92, 1e21, 1.5e-7, -3.25, Number.MAX_VALUE, next() * 300]);
  const orNull = () => (next() < 0.3 ? null : number());
  for (let i = 0; i < 2_000; i++) {
    const reading: StoredReading = {
      gatewayId: text(12),
      patientId: text(12),
      t: Math.floor(next() * 2e12),
      clockQuality: pick(['synced', 'unsynced', 'stepped', text(8)]) as StoredReading['clockQuality'],
      hr: orNull(),
      spo2: orNull(),
      pi: orNull(),
      sqi: number(),
    };
    assert.equal(readingLine(reading), readingPoint(reading).toLineProtocol(), JSON.stringify(reading));
  }
});

test('a value that is not finite is refused, as Point refuses it', () => {
  const reading: StoredReading = { gatewayId: 'gw', patientId: 'p', t: 1, clockQuality: 'synced', hr: Number.NaN, spo2: 97, pi: 1, sqi: 1 };
  assert.throws(() => readingPoint(reading));
  assert.throws(() => readingLine(reading), /invalid float value for field 'hr'/);
});
