import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredAlarmEvent } from '../../../../cloud-relay/store/history-store.ts';
import { alarmEventPoint, readingPoint, toLines } from '../../../../cloud-relay/store/influx/points.ts';

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
