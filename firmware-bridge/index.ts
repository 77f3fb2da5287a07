/**
 * firmware-bridge public surface: `openSensor` gives the gateway a `Sensor`, backed by a real
 * MAX30102 on a Raspberry Pi when one is there (and asked for), by the register-level emulator
 * otherwise; `openAlarmOutputs` gives it the alarm LED and buzzer. Nothing above knows which.
 */
import { type Clock, realClock } from './clock.ts';
import type { GpioInput, GpioOutput } from './gpio.ts';
import { MemoryGpioInput, MemoryGpioOutput } from './gpio-memory.ts';
import { gpioAccessible, openOnoffInput, openOnoffOutput } from './gpio-onoff.ts';
import type { I2CBus } from './i2c.ts';
import { HardwareUnavailableError, i2cPresent, openHardwareI2c } from './i2c-hardware.ts';
import type { Max30102Config } from './max30102/config.ts';
import { type DriverOptions, Max30102Driver, type RecoveryOptions } from './max30102/driver.ts';
import { type EmulatorFaults, Max30102Emulator } from './max30102/emulator.ts';
import type { Sensor, SensorSample, SensorState } from './sensor.ts';
import type { OpticalSource } from './sources/optical.ts';
import { RecordingSource } from './sources/recording-source.ts';
import { loadScenarioFile, type Scenario } from './sources/scenario.ts';
import { SyntheticSource } from './sources/synthetic.ts';

export type { Clock } from './clock.ts';
export { realClock, VirtualClock } from './clock.ts';
export type { BinaryValue, GpioInput, GpioOutput } from './gpio.ts';
export { MemoryGpioInput, MemoryGpioOutput } from './gpio-memory.ts';
export { type BytesRead, type I2CBus, I2cError } from './i2c.ts';
export { HardwareUnavailableError } from './i2c-hardware.ts';
export { ConfigError as SensorConfigError, DEFAULT_CONFIG, type Max30102Config, validateConfig } from './max30102/config.ts';
export { DEFAULT_RECOVERY, Max30102Driver, type RecoveryOptions, SensorFaultError } from './max30102/driver.ts';
export { type EmulatorFaults, type EmulatorOptions, Max30102Emulator } from './max30102/emulator.ts';
export type { Sensor, SensorSample, SensorState, SensorStateName } from './sensor.ts';
export type { OpticalSample, OpticalSource, SignalTruth } from './sources/optical.ts';
export { RecordingSource } from './sources/recording-source.ts';
export { loadScenarioFile, parseScenario, type Scenario, ScenarioError, ScenarioSchema, ScenarioTimeline } from './sources/scenario.ts';
export { type RenderedSignal, renderSynthetic, SyntheticSource } from './sources/synthetic.ts';

/** Raspberry Pi wiring, BCM numbers (physical header pins in docs/HARDWARE.md). */
export const PI_PINS = Object.freeze({ sda: 2, scl: 3, int: 17, alarmLed: 27, buzzer: 22, alarmButton: 23 });

export interface EmulateOptions {
  /** A scenario timeline (JSON, see firmware-bridge/scenarios/). */
  scenarioFile?: string;
  scenario?: Scenario;
  /** A recording in any format `loadRecording` reads, played in a loop. */
  recordingFile?: string;
  /** For jdesbonnet .dat recordings: which of the two sensors. */
  sensorId?: number;
  /** Any other light source. Default: a stable synthetic patient. */
  source?: OpticalSource;
  faults?: EmulatorFaults;
  dieTempC?: number;
  seed?: number;
  /** Wire the emulated INT line to the driver (default true); false exercises the polling fallback. */
  intLine?: boolean;
}

export interface OpenSensorOptions {
  /** `auto` (default): the hardware when /dev/i2c-N exists, else the emulator. */
  mode?: 'auto' | 'hardware' | 'emulator';
  config?: Partial<Max30102Config>;
  /** Emulator time; the default real clock runs a gateway in real time. */
  clock?: Clock;
  emulate?: EmulateOptions;
  hardware?: { i2cBus?: number; address?: number /** BCM pin of INT; null to poll. */; intPin?: number | null };
  recovery?: Partial<RecoveryOptions>;
  ledControl?: DriverOptions['ledControl'];
  log?: DriverOptions['log'];
}

export interface OpenedSensor extends Sensor {
  /** The emulated chip, for fault injection in tests (undefined on hardware). */
  readonly emulator?: Max30102Emulator;
  /** The emulated light source, with `truthAt` when synthetic. */
  readonly source?: OpticalSource;
}

export function emulatorSource(e: EmulateOptions = {}): OpticalSource {
  if (e.source) return e.source;
  if (e.recordingFile) return RecordingSource.fromFile(e.recordingFile, { sensorId: e.sensorId });
  if (e.scenarioFile) return new SyntheticSource(loadScenarioFile(e.scenarioFile));
  return new SyntheticSource(e.scenario ?? { name: 'stable', seed: e.seed ?? 1 });
}

/** Opens the sensor. Throws only for bad configuration or an explicit `hardware` mode without hardware. */
export async function openSensor(opts: OpenSensorOptions = {}): Promise<OpenedSensor> {
  const mode = opts.mode ?? 'auto';
  const busNumber = opts.hardware?.i2cBus ?? 1;
  const useHardware = mode === 'hardware' || (mode === 'auto' && i2cPresent(busNumber));
  const clock = opts.clock ?? realClock;
  let bus: I2CBus;
  let int: GpioInput | undefined;
  let emulator: Max30102Emulator | undefined;
  let source: OpticalSource | undefined;
  if (useHardware) {
    bus = await openHardwareI2c(busNumber);
    const intPin = opts.hardware?.intPin === undefined ? PI_PINS.int : opts.hardware.intPin;
    if (intPin !== null) {
      try {
        int = await openOnoffInput(intPin);
      } catch (err) {
        opts.log?.('warn', `INT line unavailable, polling the FIFO instead: ${(err as Error).message}`);
      }
    }
  } else {
    source = emulatorSource(opts.emulate);
    emulator = new Max30102Emulator({
      source,
      clock,
      faults: opts.emulate?.faults,
      dieTempC: opts.emulate?.dieTempC,
      seed: opts.emulate?.seed,
      address: opts.hardware?.address,
    });
    bus = emulator;
    if (opts.emulate?.intLine !== false) int = emulator.int;
  }
  const driver = new Max30102Driver({
    bus,
    int,
    clock,
    config: opts.config,
    address: opts.hardware?.address,
    kind: useHardware ? 'hardware' : 'emulator',
    recovery: opts.recovery,
    ledControl: opts.ledControl,
    log: opts.log,
  });
  let closed = false;
  return {
    sampleRateHz: driver.sampleRateHz,
    kind: driver.kind,
    emulator,
    source,
    start: () => driver.start(),
    async stop() {
      await driver.stop();
      if (closed) return;
      closed = true;
      await int?.close();
      await bus.close().catch(() => {});
    },
    onSamples: (cb: (batch: SensorSample[]) => void) => driver.onSamples(cb),
    onState: (cb: (s: SensorState) => void) => driver.onState(cb),
    state: () => driver.state(),
  };
}

export interface AlarmOutputs {
  led: GpioOutput;
  buzzer: GpioOutput;
  /** The bedside alarm button (active low, both edges): acknowledge or pause where the alarm sounds. */
  button: GpioInput;
  kind: 'hardware' | 'memory';
}

function memoryAlarmOutputs(): AlarmOutputs {
  return { led: new MemoryGpioOutput(), buzzer: new MemoryGpioOutput(), button: new MemoryGpioInput(1, 'both'), kind: 'memory' };
}

/** The alarm LED, buzzer and button: GPIO on a Pi, in-memory elsewhere (or when asked). */
export async function openAlarmOutputs(
  opts: { mode?: 'auto' | 'hardware' | 'memory'; ledPin?: number; buzzerPin?: number; buttonPin?: number } = {},
): Promise<AlarmOutputs> {
  const mode = opts.mode ?? 'auto';
  if (mode === 'memory' || (mode === 'auto' && !(await gpioAccessible()))) return memoryAlarmOutputs();
  try {
    const led = await openOnoffOutput(opts.ledPin ?? PI_PINS.alarmLed);
    const buzzer = await openOnoffOutput(opts.buzzerPin ?? PI_PINS.buzzer);
    const button = await openOnoffInput(opts.buttonPin ?? PI_PINS.alarmButton, 'both');
    return { led, buzzer, button, kind: 'hardware' };
  } catch (err) {
    if (mode === 'hardware') throw err instanceof HardwareUnavailableError ? err : new HardwareUnavailableError((err as Error).message);
    return memoryAlarmOutputs();
  }
}
