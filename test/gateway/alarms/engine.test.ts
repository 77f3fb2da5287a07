import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlarmEngine, MAX_PAUSE_MS } from '../../../gateway/alarms/engine.ts';
import type { VitalsEstimate } from '../../../gateway/alarms/vitals.ts';
import { validate } from '../../../protocol/codec.ts';
import { DEFAULT_LIMITS } from '../../../protocol/limits.ts';
import type { AlarmEvent, QualityReason } from '../../../protocol/schemas.ts';

type Sample = Partial<Omit<VitalsEstimate, 't'>>;
const STABLE: Required<Sample> = { hr: 72, spo2: 97, pi: 2, sqi: 0.9, reasons: [] };

let ids = 0;
/** An engine fed estimates that are not late (signalLatencyMs 0), so delays are exact. */
function engine(limits?: unknown, signalLatencyMs = 0): AlarmEngine {
  return new AlarmEngine({
    limits,
    wallClock: (mono) => 1_763_000_000_000 + mono,
    newAlarmId: () => `alarm-${String(++ids).padStart(4, '0')}`,
    signalLatencyMs,
  });
}

/** Feeds one estimate per second for t in [from, to), as the pipeline would, and collects the events. */
function feed(e: AlarmEngine, from: number, to: number, sample: (t: number) => Sample = () => ({})): AlarmEvent[] {
  const events: AlarmEvent[] = [];
  for (let t = from; t < to; t++) {
    events.push(...e.observeVitals({ t, ...STABLE, ...sample(t) } as VitalsEstimate, t * 1000));
  }
  return events;
}

const seconds = (event: AlarmEvent) => event.mono / 1000;
const of = (events: AlarmEvent[], rule: string, kind?: AlarmEvent['event']) =>
  events.filter((e) => e.rule === rule && (kind === undefined || e.event === kind));
const raisedRules = (events: AlarmEvent[]) => events.filter((e) => e.event === 'raised').map((e) => e.rule);

describe('alarm engine: physiological limits with condition delay and hysteresis', () => {
  it('stays quiet for a stable patient', () => {
    assert.deepEqual(feed(engine(), 0, 900), []);
  });

  it('raises SpO2 low after its condition delay, not before', () => {
    const e = engine();
    feed(e, 0, 120);
    const events = feed(e, 120, 200, () => ({ spo2: 88 }));
    const raised = of(events, 'spo2-low', 'raised');
    assert.equal(raised.length, 1);
    assert.equal(seconds(raised[0]!), 120 + DEFAULT_LIMITS['spo2-low'].delayS);
    assert.equal(raised[0]!.priority, 'medium');
    assert.equal(raised[0]!.kind, 'physiological');
    assert.equal(raised[0]!.value, 88);
    assert.equal(raised[0]!.limit, 90);
    assert.equal(raised[0]!.unit, '%');
  });

  it('counts the pipeline latency towards the condition delay of physiological rules only', () => {
    const e = engine(undefined, 4000);
    feed(e, 0, 60);
    const events = feed(e, 60, 80, () => ({ hr: 35, spo2: 88 }));
    assert.equal(seconds(of(events, 'hr-low-severe', 'raised')[0]!), 61, '5 s delay, 4 s of it spent in the pipeline');
    assert.equal(seconds(of(events, 'spo2-low', 'raised')[0]!), 66);
    const single = engine(undefined, 5000);
    feed(single, 0, 60);
    assert.deepEqual(raisedRules(feed(single, 60, 62, (x) => (x === 60 ? { hr: 35 } : {}))), [], 'one odd estimate raises nothing');
    assert.equal(
      seconds(
        of(
          feed(single, 62, 70, () => ({ hr: 35 })),
          'hr-low-severe',
          'raised',
        )[0]!,
      ),
      63,
      'two in a row do',
    );
    const t = engine(undefined, 4000);
    feed(t, 0, 60);
    const poor = feed(t, 60, 80, () => ({ sqi: 0.2 }));
    assert.equal(seconds(of(poor, 'poor-signal', 'raised')[0]!), 60 + DEFAULT_LIMITS['poor-signal'].delayS, 'technical: full delay');
  });

  it('does not raise a condition shorter than its delay', () => {
    const e = engine();
    feed(e, 0, 60);
    const events = feed(e, 60, 69, () => ({ hr: 130 }));
    events.push(...feed(e, 69, 200));
    assert.deepEqual(raisedRules(events), []);
  });

  it('clears only once the value is back past the hysteresis band', () => {
    const e = engine();
    feed(e, 0, 60);
    assert.deepEqual(raisedRules(feed(e, 60, 80, () => ({ hr: 125 }))), ['hr-high']);
    assert.deepEqual(
      feed(e, 80, 100, () => ({ hr: 118 })),
      [],
      'inside the band 117–120: still active',
    );
    const cleared = feed(e, 100, 101, () => ({ hr: 117 }));
    assert.equal(of(cleared, 'hr-high', 'cleared').length, 1);
    assert.equal(e.active().length, 0);
  });

  it('raises each level of a limit with its own priority and delay', () => {
    const e = engine();
    feed(e, 0, 60);
    const first = of(
      feed(e, 60, 80, () => ({ hr: 45 })),
      'hr-low',
      'raised',
    )[0]!;
    assert.equal(first.priority, 'medium');
    assert.equal(seconds(first), 70);
    const severe = of(
      feed(e, 80, 90, () => ({ hr: 35 })),
      'hr-low-severe',
      'raised',
    )[0]!;
    assert.equal(severe.priority, 'high');
    assert.equal(seconds(severe), 85);
    assert.deepEqual(
      e.active().map((a) => a.rule),
      ['hr-low-severe', 'hr-low'],
    );
  });

  it('gives one alarm for one event: a severe alarm holds back the first level, a limit alarm the desaturation', () => {
    const e = engine();
    feed(e, 0, 120);
    const events = feed(e, 120, 160, () => ({ hr: 35, spo2: 80 }));
    assert.deepEqual(raisedRules(events), ['hr-low-severe', 'spo2-low-severe']);
  });

  it('gives events that the wire contract accepts', () => {
    const e = engine();
    feed(e, 0, 60);
    const events = [
      ...feed(e, 60, 80, () => ({ spo2: 80, hr: 45 })),
      ...(e.acknowledge('spo2-low-severe', 80_000) as { events: AlarmEvent[] }).events,
    ];
    assert.ok(events.length >= 3);
    const message = {
      v: 1,
      type: 'alarms',
      msgId: 'msg-00000001',
      gatewayId: 'gw-bed-01',
      seq: 1,
      clock: { quality: 'synced', bootId: 'b' },
      events,
    };
    const checked = validate('alarms', message);
    assert.ok(checked.ok, checked.ok ? '' : checked.reason);
  });
});

describe('alarm engine: latching, acknowledgement, pause, escalation', () => {
  it('latches a high-priority alarm after its condition ends until acknowledged', () => {
    const e = engine();
    feed(e, 0, 60);
    feed(e, 60, 70, () => ({ spo2: 80 }));
    const recovery = feed(e, 70, 200);
    assert.equal(of(recovery, 'spo2-low-severe', 'cleared').length, 0, 'latched');
    const latched = e.active().find((a) => a.rule === 'spo2-low-severe')!;
    assert.equal(latched.conditionPresent, false);
    assert.equal(e.annunciation(200_000).audio, 'high');
    const ack = e.acknowledge(latched.alarmId, 200_000);
    assert.ok(ack.ok);
    assert.deepEqual(
      ack.events.map((x) => x.event),
      ['acknowledged', 'cleared'],
    );
    assert.equal(e.active().length, 0);
    assert.equal(e.annunciation(200_000).visual, null);
  });

  it('acknowledging silences the alarm while the condition lasts; it clears when the condition ends', () => {
    const e = engine();
    feed(e, 0, 60);
    feed(e, 60, 66, () => ({ spo2: 80 }));
    assert.deepEqual(e.annunciation(66_000), { visual: 'high', audio: 'high' });
    const ack = e.acknowledge('spo2-low-severe', 66_000);
    assert.ok(ack.ok);
    assert.deepEqual(
      ack.events.map((x) => x.event),
      ['acknowledged'],
    );
    assert.deepEqual(e.annunciation(66_500), { visual: 'high', audio: null });
    assert.deepEqual(
      feed(e, 66, 90, () => ({ spo2: 80 })),
      [],
      'still present, still acknowledged',
    );
    const recovery = feed(e, 90, 100);
    assert.equal(of(recovery, 'spo2-low-severe', 'cleared').length, 1);
    assert.equal(e.acknowledge('spo2-low-severe', 100_000).ok, false);
    assert.match((e.acknowledge('nope', 100_000) as { reason: string }).reason, /no active alarm "nope"/);
  });

  it('refuses to acknowledge twice', () => {
    const e = engine();
    feed(e, 0, 60);
    feed(e, 60, 66, () => ({ spo2: 80 }));
    const id = e.active()[0]!.alarmId;
    assert.ok(e.acknowledge(id, 66_000).ok);
    assert.match((e.acknowledge(id, 67_000) as { reason: string }).reason, /already acknowledged/);
  });

  it('escalates a medium alarm left unacknowledged, which then latches', () => {
    const e = engine();
    feed(e, 0, 60);
    const events = feed(e, 60, 250, () => ({ hr: 45 }));
    const raised = of(events, 'hr-low', 'raised')[0]!;
    const escalated = of(events, 'hr-low', 'escalated');
    assert.equal(escalated.length, 1);
    assert.equal(escalated[0]!.priority, 'high');
    assert.equal(escalated[0]!.alarmId, raised.alarmId);
    assert.equal(seconds(escalated[0]!) - seconds(raised), DEFAULT_LIMITS.escalation.afterS);
    const recovery = feed(e, 250, 300);
    assert.equal(of(recovery, 'hr-low', 'cleared').length, 0, 'escalated to high, so latched');
  });

  it('does not escalate an acknowledged medium alarm', () => {
    const e = engine();
    feed(e, 0, 60);
    feed(e, 60, 80, () => ({ hr: 45 }));
    assert.ok(e.acknowledge('hr-low', 80_000).ok);
    const events = feed(e, 80, 400, () => ({ hr: 45 }));
    assert.deepEqual(events, []);
  });

  it('pauses audio for at most 2 minutes, then sounds again; escalation waits for the pause', () => {
    const e = engine();
    feed(e, 0, 60);
    feed(e, 60, 80, () => ({ hr: 45 }));
    assert.match((e.pause(80_000, MAX_PAUSE_MS + 1) as { reason: string }).reason, /at most 120 s/);
    assert.equal(e.pause(80_000, 0).ok, false);
    const paused = e.pause(80_000, 120_000);
    assert.ok(paused.ok);
    assert.deepEqual(
      paused.events.map((x) => [x.rule, x.event]),
      [['hr-low', 'paused']],
    );
    assert.deepEqual(e.annunciation(81_000), { visual: 'medium', audio: null });
    const during = feed(e, 80, 200, () => ({ hr: 45 }));
    assert.equal(of(during, 'hr-low', 'escalated').length, 0, 'raised at 70 s, due at 190 s, paused until 200 s');
    assert.deepEqual(e.annunciation(200_000).audio, 'medium');
    const after = feed(e, 200, 201, () => ({ hr: 45 }));
    assert.equal(of(after, 'hr-low', 'escalated').length, 1);
  });

  it('sounds a new alarm raised during a pause', () => {
    const e = engine();
    feed(e, 0, 60);
    feed(e, 60, 80, () => ({ hr: 45 }));
    assert.ok(e.pause(80_000, 60_000).ok);
    feed(e, 80, 90, () => ({ hr: 45, spo2: 80 }));
    assert.deepEqual(e.annunciation(90_000), { visual: 'high', audio: 'high' });
    assert.equal(e.pause(90_000, 60_000).ok, true);
    assert.equal(e.annunciation(90_000).audio, null);
  });

  it('refuses a pause when nothing sounds', () => {
    const e = engine();
    feed(e, 0, 10);
    assert.match((e.pause(10_000, 60_000) as { reason: string }).reason, /no unacknowledged alarm/);
  });
});

describe('alarm engine: quality gating', () => {
  const motion: QualityReason[] = ['motion'];

  it('holds physiological alarms back while the SQI is low and shows poor signal instead', () => {
    const e = engine();
    feed(e, 0, 60);
    const events = feed(e, 60, 90, () => ({ hr: 35, spo2: 80, sqi: 0.2, reasons: motion }));
    assert.deepEqual(raisedRules(events), ['poor-signal']);
    const poor = of(events, 'poor-signal', 'raised')[0]!;
    assert.equal(poor.kind, 'technical');
    assert.equal(poor.priority, 'low');
    assert.equal(seconds(poor), 60 + DEFAULT_LIMITS['poor-signal'].delayS);
  });

  it('alarms a real desaturation with a good signal within its condition delay + 1 s', () => {
    const e = engine();
    feed(e, 0, 120);
    feed(e, 120, 140, () => ({ sqi: 0.2, reasons: motion }));
    feed(e, 140, 160);
    // 97 → 85 % at 1 point per second, good signal throughout.
    const events = feed(e, 160, 260, (t) => ({ spo2: Math.max(85, 97 - (t - 160)) }));
    const crossDesat = 164; // first value ≥ 4 points below the baseline of 97
    const crossLow = 168; // first value below 90
    const desat = of(events, 'spo2-desat', 'raised')[0]!;
    const low = of(events, 'spo2-low', 'raised')[0]!;
    assert.ok(seconds(desat) - crossDesat <= DEFAULT_LIMITS['spo2-desat'].delayS + 1, `desat after ${seconds(desat) - crossDesat} s`);
    assert.ok(seconds(low) - crossLow <= DEFAULT_LIMITS['spo2-low'].delayS + 1, `spo2-low after ${seconds(low) - crossLow} s`);
    assert.equal(of(events, 'spo2-low-severe', 'raised').length, 0, '85 is not below 85');
  });

  it('holds values back until a whole analysis window of good signal has followed an artefact', () => {
    const e = engine();
    feed(e, 0, 60);
    // Right after motion the estimate can look clean while its window still holds the artefact.
    const events = feed(e, 60, 90, (t) => (t < 70 ? { sqi: 0.1, hr: null, reasons: motion } : t < 72 ? { hr: 35, spo2: 84 } : {}));
    assert.deepEqual(raisedRules(events), []);
    const settled = feed(e, 90, 110, (t) => (t >= 95 ? { hr: 35 } : {}));
    assert.equal(seconds(of(settled, 'hr-low-severe', 'raised')[0]!), 100, 'good signal throughout: the plain delay');
  });

  it('keeps a pending condition through a short quality dip, restarts it after a long one', () => {
    const short = engine();
    feed(short, 0, 60);
    const a = feed(short, 60, 90, (t) => (t >= 64 && t < 66 ? { hr: 130, sqi: 0.1 } : { hr: 130 }));
    assert.equal(seconds(of(a, 'hr-high', 'raised')[0]!), 74, 'delay kept from 60 s; raised once the signal has settled (66 + 8 s)');

    const long = engine();
    feed(long, 0, 60);
    const b = feed(long, 60, 100, (t) => (t >= 64 && t < 69 ? { hr: 130, sqi: 0.1 } : { hr: 130 }));
    assert.equal(seconds(of(b, 'hr-high', 'raised')[0]!), 87, 'delay restarted once settled at 77 s');
  });

  it('never clears an active alarm because the signal went bad', () => {
    const e = engine();
    feed(e, 0, 60);
    feed(e, 60, 80, () => ({ hr: 45 }));
    const events = feed(e, 80, 110, () => ({ hr: 72, sqi: 0.1, reasons: motion }));
    assert.equal(of(events, 'hr-low', 'cleared').length, 0);
    assert.ok(e.active().some((a) => a.rule === 'hr-low'));
  });
});

describe('alarm engine: baselines', () => {
  it('raises a desaturation from the patient baseline that stays above the fixed limit', () => {
    const e = engine();
    feed(e, 0, 300, () => ({ spo2: 98 }));
    const events = feed(e, 300, 340, () => ({ spo2: 93 }));
    assert.deepEqual(raisedRules(events), ['spo2-desat']);
    assert.equal(seconds(of(events, 'spo2-desat', 'raised')[0]!), 310);
    assert.equal(of(events, 'spo2-desat', 'raised')[0]!.limit, 94);
  });

  it('raises an HR anomaly the fixed limits miss, against a median/MAD baseline', () => {
    const e = engine();
    feed(e, 0, 600, (t) => ({ hr: 70 + ((t * 7) % 5) - 2 }));
    const events = feed(e, 600, 660, () => ({ hr: 100 }));
    assert.deepEqual(raisedRules(events), ['hr-anomaly']);
    const raised = of(events, 'hr-anomaly', 'raised')[0]!;
    assert.equal(seconds(raised), 600 + DEFAULT_LIMITS['hr-anomaly'].delayS);
    assert.equal(raised.priority, 'low');
  });

  it('does not call ordinary variability an anomaly', () => {
    const e = engine();
    const events = feed(e, 0, 1800, (t) => ({ hr: 72 + 8 * Math.sin(t / 40) + ((t * 13) % 7) - 3, spo2: 96 + ((t * 5) % 3) - 1 }));
    assert.deepEqual(raisedRules(events), []);
  });
});

describe('alarm engine: technical alarms', () => {
  it('raises value-not-current when the last valid value is older than 30 s', () => {
    const e = engine();
    feed(e, 0, 60);
    const events = feed(e, 60, 100, () => ({ hr: null, spo2: null, sqi: 0.7 }));
    const vnc = of(events, 'value-not-current', 'raised');
    assert.equal(vnc.length, 1);
    assert.equal(seconds(vnc[0]!), 59 + 31, 'last valid at 59 s; older than 30 s at 90 s');
    const back = feed(e, 100, 101);
    assert.equal(of(back, 'value-not-current', 'cleared').length, 1);
  });

  it('raises value-not-current on ticks when estimates stop arriving', () => {
    const e = engine();
    feed(e, 0, 10);
    const events: AlarmEvent[] = [];
    for (let s = 10; s <= 45; s++) events.push(...e.tick(s * 1000));
    assert.equal(seconds(of(events, 'value-not-current', 'raised')[0]!), 40);
  });

  it('raises sensor-off from the pipeline or the driver, and lets it stand for value-not-current', () => {
    const e = engine();
    feed(e, 0, 60);
    const events = feed(e, 60, 120, () => ({ hr: null, spo2: null, sqi: 0, reasons: ['no-finger'] }));
    assert.deepEqual(raisedRules(events), ['sensor-off']);
    assert.equal(seconds(of(events, 'sensor-off', 'raised')[0]!), 70);
    assert.equal(of(feed(e, 120, 121), 'sensor-off', 'cleared').length, 1);

    const d = engine();
    feed(d, 0, 10);
    d.observeTechnical({ sensor: { state: 'finger-off' } }, 10_000);
    const fromDriver = feed(d, 10, 30, () => ({ hr: null, spo2: null, sqi: 0 }));
    assert.deepEqual(raisedRules(fromDriver), ['sensor-off']);
  });

  it('does not call values stale while the signal settles after the finger comes back', () => {
    const e = engine();
    feed(e, 0, 60);
    const off = feed(e, 60, 120, () => ({ hr: null, spo2: null, sqi: 0, reasons: ['no-finger'] }));
    assert.deepEqual(raisedRules(off), ['sensor-off']);
    const back: AlarmEvent[] = [];
    for (let t = 120; t < 140; t++) {
      back.push(...feed(e, t, t + 1));
      back.push(...e.tick(t * 1000 + 500));
    }
    assert.deepEqual(
      back.map((x) => [x.rule, x.event]),
      [['sensor-off', 'cleared']],
    );
  });

  it('raises sensor-fault with the driver cause', () => {
    const e = engine();
    feed(e, 0, 5);
    const events = [
      ...e.observeTechnical({ sensor: { state: 'fault', cause: 'I2C NACK at 0x57' } }, 5000),
      ...e.tick(6000),
      ...e.tick(7000),
    ];
    const raised = of(events, 'sensor-fault', 'raised')[0]!;
    assert.equal(seconds(raised), 7);
    assert.match(raised.message, /I2C NACK at 0x57/);
    assert.equal(of(e.observeTechnical({ sensor: { state: 'ok' } }, 8000), 'sensor-fault', 'cleared').length, 1);
  });

  const noVitals = { 'value-not-current': { enabled: false } };

  it('raises fifo-overflow on repeated bursts and clears after a quiet minute', () => {
    const e = engine(noVitals);
    const events: AlarmEvent[] = [];
    events.push(...e.observeTechnical({ overflowCount: 0 }, 0));
    for (const [at, count] of [
      [5, 1],
      [10, 2],
    ] as const)
      events.push(...e.observeTechnical({ overflowCount: count }, at * 1000));
    assert.deepEqual(raisedRules(events), []);
    const raised = e.observeTechnical({ overflowCount: 3 }, 20_000);
    assert.deepEqual(raisedRules(raised), ['fifo-overflow']);
    assert.deepEqual(e.tick(70_000), []);
    assert.equal(of(e.tick(80_001), 'fifo-overflow', 'cleared').length, 1);
    assert.deepEqual(raisedRules(e.observeTechnical({ overflowCount: 0 }, 81_000)), [], 'a counter reset is not a burst');
  });

  it('raises storage-full with hysteresis', () => {
    const e = engine(noVitals);
    assert.deepEqual(e.observeTechnical({ storageFill: 0.89 }, 0), []);
    assert.deepEqual(raisedRules(e.observeTechnical({ storageFill: 0.9 }, 1000)), ['storage-full']);
    assert.deepEqual(e.observeTechnical({ storageFill: 0.86 }, 2000), []);
    assert.equal(of(e.observeTechnical({ storageFill: 0.84 }, 3000), 'storage-full', 'cleared').length, 1);
  });

  it('raises uplink-lost once the relay has been gone longer than the limit', () => {
    const e = engine(noVitals);
    e.observeTechnical({ uplinkDownSinceMs: 5000 }, 5000);
    assert.deepEqual(e.tick(64_999), []);
    assert.deepEqual(raisedRules(e.tick(65_000)), ['uplink-lost']);
    assert.equal(of(e.observeTechnical({ uplinkDownSinceMs: null }, 70_000), 'uplink-lost', 'cleared').length, 1);
  });

  it('counts malformed inputs and never throws on them', () => {
    const e = engine();
    e.observeTechnical({ storageFill: Number.NaN, overflowCount: -1, uplinkDownSinceMs: 10_000 }, 0);
    e.observeTechnical({ sensor: { state: 'melted' } } as never, 0);
    e.observeVitals({ t: 0, hr: Number.POSITIVE_INFINITY, spo2: 97, pi: 1, sqi: 0.9, reasons: [] }, 0);
    e.observeVitals({ t: 0, hr: 70, spo2: 97, pi: 1, sqi: 7, reasons: [] }, 0);
    e.observeVitals(null as never, 0);
    assert.equal(e.counters.rejectedInputs, 7);
    assert.deepEqual(raisedRules(feed(e, 1, 20)), []);
  });
});

describe('alarm engine: per-patient limits', () => {
  it('refuses an invalid document with the reason and keeps the previous limits', () => {
    const e = engine({ 'spo2-low': { limit: 88 } });
    const refused = e.setLimits({ 'spo2-low': { limit: 'eighty' } });
    assert.equal(refused.ok, false);
    assert.match((refused as { reason: string }).reason, /\/spo2-low\/limit/);
    assert.equal(e.limits['spo2-low'].limit, 88);
    assert.equal(e.counters.rejectedLimits, 1);
    assert.deepEqual(raisedRules(feed(e, 0, 120, () => ({ spo2: 89 }))), [], '89 is fine with a limit of 88');
  });

  it('applies new limits to the next estimates, and a rule switched off clears its alarm', () => {
    const e = engine();
    feed(e, 0, 60);
    assert.deepEqual(raisedRules(feed(e, 60, 80, () => ({ hr: 125 }))), ['hr-high']);
    assert.deepEqual(e.setLimits({ 'hr-high': { enabled: false } }), { ok: true });
    const events = feed(e, 80, 81, () => ({ hr: 125 }));
    assert.equal(of(events, 'hr-high', 'cleared').length, 1);
    assert.deepEqual(e.setLimits({ 'hr-high': { limit: 130, delayS: 2 } }), { ok: true });
    assert.deepEqual(
      feed(e, 81, 100, () => ({ hr: 125 })),
      [],
    );
    assert.deepEqual(raisedRules(feed(e, 100, 103, () => ({ hr: 131 }))), ['hr-high']);
  });

  it('refuses invalid limits at construction', () => {
    assert.throws(() => engine({ 'hr-low': { limit: 5 } }), /invalid alarm limits: \/hr-low\/limit/);
  });
});
