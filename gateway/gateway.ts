/**
 * One bedside gateway: sensor → signal → alarms → outbox → uplink. Data flows
 * one way; each stage knows only its neighbour's narrow interface. The alarm
 * path (engine → LED/buzzer, engine → outbox) never waits on the network.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  type AlarmOutputs,
  type Max30102Config,
  openAlarmOutputs,
  openSensor,
  realClock,
  type Sensor,
  type SensorState,
} from '../firmware-bridge/index.ts';
import type { ConfigMessage, Reading } from '../protocol/schemas.ts';
import { Annunciator } from './alarms/annunciator.ts';
import { AlarmButton } from './alarms/button.ts';
import { AlarmEngine } from './alarms/engine.ts';
import { type GatewayClock, systemClock } from './clock/index.ts';
import type { GatewayConfig } from './config.ts';
import { Outbox } from './outbox/index.ts';
import { type VitalsEstimate, VitalsPipeline } from './signal/index.ts';
import { enrollGateway, readEnrollment, startUplink, type Uplink } from './uplink/index.ts';

export const SOFTWARE_VERSION = 'vigil-gateway 0.1.0';
const TICK_MS = 1000;
/** Remote limits are kept here so a reboot without network keeps the patient's limits. */
const LIMITS_FILE = 'limits.json';
/** Active alarms, so a restart (watchdog, power cut) does not silently drop a latched alarm. */
const ALARMS_FILE = 'active-alarms.json';

export class GatewayStartError extends Error {
  override name = 'GatewayStartError';
}

export interface GatewayDeps {
  log: Logger;
  clock?: GatewayClock;
  /** A ready sensor (tests); otherwise opened from the config. */
  sensor?: Sensor;
  outputs?: AlarmOutputs;
}

export interface RunningGateway {
  readonly engine: AlarmEngine;
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  close(): Promise<void>;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GatewayStartError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

function writeJsonAtomically(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(value, null, 2), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** One decimal is below any sensor's resolution and keeps payloads small. */
const round1 = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);

export function toReading(estimate: VitalsEstimate, clock: GatewayClock): Reading {
  return {
    t: clock.nowMs(),
    mono: clock.monoMs(),
    hr: round1(estimate.hr),
    spo2: round1(estimate.spo2),
    pi: estimate.pi === null ? null : Math.round(estimate.pi * 100) / 100,
    sqi: Math.round(estimate.sqi * 1000) / 1000,
    reasons: [...new Set(estimate.reasons)],
  };
}

export async function startGateway(config: GatewayConfig, deps: GatewayDeps): Promise<RunningGateway> {
  const { log } = deps;
  const dataDir = config.dataDir;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const clock = deps.clock ?? systemClock({ assumeSynced: config.clock.assumeSynced });

  // Limits: the last remotely accepted document wins over the local file; both are validated.
  const limitsPath = join(dataDir, LIMITS_FILE);
  const storedLimits = readJson(limitsPath) ?? (config.alarms.limitsFile ? readJson(config.alarms.limitsFile) : undefined);
  const engine = new AlarmEngine({ wallClock: () => clock.nowMs() });
  if (storedLimits !== undefined) {
    const applied = engine.setLimits(storedLimits);
    if (!applied.ok) throw new GatewayStartError(`alarm limits refused: ${applied.reason}`);
  }

  const alarmsPath = join(dataDir, ALARMS_FILE);
  const savedAlarms = readJson(alarmsPath);
  if (savedAlarms !== undefined) {
    const restored = engine.restore(savedAlarms, clock.monoMs());
    if (restored.ok) log.info({ restored: restored.restored }, 'active alarms restored');
    else log.error({ reason: restored.reason }, 'saved alarms unreadable; starting without them');
  }
  let savedSnapshot = JSON.stringify(engine.snapshot());

  let enrollment = readEnrollment(dataDir);
  if (!enrollment) {
    if (!config.enrollmentToken)
      throw new GatewayStartError('gateway is not enrolled: set VIGIL_ENROLLMENT_TOKEN to a token from the relay admin');
    await enrollGateway({
      relayHttpUrl: config.relay.httpUrl,
      enrollmentToken: config.enrollmentToken,
      gatewayId: config.gatewayId,
      keyDir: dataDir,
    });
    enrollment = readEnrollment(dataDir);
    log.info('enrolled with the relay');
  }
  const audience = config.relay.audience ?? enrollment?.audience;
  if (!audience) throw new GatewayStartError('no relay audience: enrollment did not record one');

  const outboxLog = log.child({ component: 'outbox' });
  const outbox = Outbox.open({ path: join(dataDir, 'outbox.sqlite'), gatewayId: config.gatewayId, clock, log: outboxLog });

  const sensorLog = log.child({ component: 'sensor' });
  const sensor =
    deps.sensor ??
    (await openSensor({
      mode: config.sensor.mode,
      ...(config.sensor.sampleRateHz ? { config: { sampleRate: config.sensor.sampleRateHz as Max30102Config['sampleRate'] } } : {}),
      clock: realClock,
      emulate: { scenarioFile: config.sensor.scenarioFile },
      log: (level, msg) => sensorLog[level](msg),
    }));
  const outputs = deps.outputs ?? (await openAlarmOutputs({ mode: sensor.kind === 'emulator' ? 'memory' : 'auto' }));
  const annunciator = new Annunciator({
    led: outputs.led,
    buzzer: outputs.buzzer,
    clock: realClock,
    onError: (error) => log.error({ err: error }, 'alarm output write failed'),
  });
  // The bedside button acknowledges or pauses where the alarm sounds, network or not.
  const button = new AlarmButton({
    input: outputs.button,
    clock: realClock,
    engine,
    now: () => clock.monoMs(),
    onAction: (action, events) => {
      log.info({ action, events: events.length }, 'alarm button');
      emit(events);
    },
  });
  const pipeline = new VitalsPipeline({ rateHz: sensor.sampleRateHz, calibration: config.signal.calibration });

  let uplinkDownSinceMs: number | null = clock.monoMs();
  let sensorState: SensorState = sensor.state();

  const emit = (events: ReturnType<AlarmEngine['tick']>) => {
    // Local annunciation first: it needs neither the disk nor the network.
    annunciator.show(engine.annunciation(clock.monoMs()));
    if (events.length === 0) return;
    for (const e of events) log.info({ rule: e.rule, event: e.event, priority: e.priority, alarmId: e.alarmId }, 'alarm event');
    try {
      outbox.enqueueAlarms(events);
    } catch (error) {
      log.error({ err: error }, 'could not store alarm events');
    }
    const snapshot = JSON.stringify(engine.snapshot());
    if (snapshot !== savedSnapshot) {
      try {
        writeJsonAtomically(alarmsPath, JSON.parse(snapshot));
        savedSnapshot = snapshot;
      } catch (error) {
        log.error({ err: error }, 'could not save active alarms');
      }
    }
  };

  const onEstimate = (estimate: VitalsEstimate) => {
    // A faulted sensor cannot vouch for any number, whatever the pipeline made of its last samples.
    const trusted =
      sensorState.state === 'fault' ? { ...estimate, hr: null, spo2: null, pi: null, reasons: ['sensor-fault' as const] } : estimate;
    try {
      outbox.enqueueVitals([toReading(trusted, clock)]);
    } catch (error) {
      log.error({ err: error }, 'could not store a reading');
    }
    emit(engine.observeVitals(trusted, clock.monoMs()));
  };

  sensor.onSamples((batch) => {
    for (const sample of batch) {
      const estimate = pipeline.push(sample.red, sample.ir, sample.ledStep === true);
      if (estimate) onEstimate(estimate);
    }
  });
  sensor.onState((state) => {
    if (state.state !== sensorState.state) sensorLog.warn({ state: state.state, cause: state.cause }, 'sensor state');
    sensorState = state;
  });

  const tick = setInterval(() => {
    try {
      const stats = outbox.stats();
      emit(
        engine.observeTechnical(
          {
            sensor: { state: sensorState.state, ...(sensorState.cause ? { cause: sensorState.cause } : {}) },
            overflowCount: sensorState.overflows,
            // A damaged file, a full disk or no durable file at all is as bad as a full outbox: say so.
            storageFill: stats.recoveredFromCorruption || stats.diskFull || !stats.durable ? 1 : stats.fill,
            uplinkDownSinceMs,
          },
          clock.monoMs(),
        ),
      );
      emit(engine.tick(clock.monoMs()));
    } catch (error) {
      log.error({ err: error }, 'alarm tick failed');
    }
  }, TICK_MS);

  const onConfig = (message: ConfigMessage) => {
    const applied = engine.setLimits(message.limits ?? {});
    if (!applied.ok) {
      log.warn({ configVersion: message.configVersion, reason: applied.reason }, 'config refused; previous limits kept');
      return { accepted: false, reason: applied.reason };
    }
    writeJsonAtomically(limitsPath, message.limits ?? {});
    log.info({ configVersion: message.configVersion }, 'alarm limits updated');
    return { accepted: true };
  };

  const caPem = config.relay.caFile ? readFileSync(config.relay.caFile) : undefined;
  const uplink = startUplink({
    gatewayId: config.gatewayId,
    mqttUrl: config.relay.mqttUrl,
    audience,
    keyDir: dataDir,
    outbox,
    clock,
    ...(caPem ? { ca: caPem } : {}),
    onConfig,
    status: () => ({
      software: SOFTWARE_VERSION,
      sensor: {
        state: sensorState.state,
        ...(sensorState.cause ? { cause: sensorState.cause.slice(0, 200) } : {}),
        lostSamples: sensorState.lostSamples,
      },
    }),
    onConnectionChange: (connected) => {
      uplinkDownSinceMs = connected ? null : (uplinkDownSinceMs ?? clock.monoMs());
      log.info({ connected }, 'uplink');
    },
    log: log.child({ component: 'uplink' }),
  });

  await sensor.start();
  log.info({ sensor: sensor.kind, rateHz: sensor.sampleRateHz }, 'gateway measuring');

  let closed = false;
  return {
    engine,
    outbox,
    uplink,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(tick);
      button.close();
      await sensor.stop();
      await uplink.close();
      await annunciator.close();
      outbox.close();
    },
  };
}
