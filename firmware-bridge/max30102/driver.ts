/**
 * MAX30102 driver: configures the chip over an `I2CBus`, drains its FIFO on the INT line's
 * almost-full edge and on a polling timer, and turns everything that can go wrong into sensor
 * state instead of exceptions. Register references are to the datasheet (19-7740 Rev 1).
 */
import { type Clock, realClock, type Timer } from '../clock.ts';
import type { GpioInput } from '../gpio.ts';
import { classifyI2cError, type I2CBus, I2cError } from '../i2c.ts';
import type { Sensor, SensorSample, SensorState, SensorStateName } from '../sensor.ts';
import { fifoRateHz, type Max30102Config, validateConfig } from './config.ts';
import { DEFAULT_FINGER_DETECT, type FingerDetectOptions, FingerDetector, LedController, type LedControlOptions } from './led-control.ts';
import {
  decodeDieTemp,
  encodeFifoConfig,
  encodeSpo2Config,
  FIFO_DEPTH,
  INT1,
  ledCode,
  ledMa,
  MAX30102_ADDRESS,
  MODE,
  PART_ID_VALUE,
  PTR_MASK,
  REG,
  SAMPLE_MASK,
  TEMP_EN,
} from './registers.ts';

export interface RecoveryOptions {
  /** Consecutive failed attempts before the sensor is declared in fault. */
  attempts: number;
  /** Backoff between attempts: base · 2^(n−1), capped. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** While in fault, try again this often (a technician may reseat the sensor). */
  faultRetryMs: number;
  /** A bus transaction that has not completed in this time counts as a hung bus. */
  opTimeoutMs: number;
}

export const DEFAULT_RECOVERY: Readonly<RecoveryOptions> = Object.freeze({
  attempts: 5,
  baseDelayMs: 20,
  maxDelayMs: 1000,
  faultRetryMs: 5000,
  opTimeoutMs: 250,
});

export interface DriverOptions {
  bus: I2CBus;
  /** The INT pin (active low). Without it the driver polls. */
  int?: GpioInput;
  clock?: Clock;
  config?: Partial<Max30102Config>;
  address?: number;
  kind?: 'hardware' | 'emulator';
  recovery?: Partial<RecoveryOptions>;
  ledControl?: Partial<LedControlOptions>;
  fingerDetect?: Partial<FingerDetectOptions>;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

/** A sensor problem that is not a bus error: wrong part, reset that never finishes, stuck FIFO. */
export class SensorFaultError extends Error {
  override name = 'SensorFaultError';
  constructor(
    message: string,
    /** Retrying quickly will not help (a wrong chip); go straight to the slow fault retry. */
    readonly persistent = false,
  ) {
    super(message);
  }
}

const hex = (v: number) => `0x${v.toString(16).padStart(2, '0')}`;

export class Max30102Driver implements Sensor {
  readonly sampleRateHz: number;
  readonly kind: 'hardware' | 'emulator';
  readonly config: Readonly<Max30102Config>;

  private readonly bus: I2CBus;
  private readonly int: GpioInput | undefined;
  private readonly clock: Clock;
  private readonly address: number;
  private readonly recovery: RecoveryOptions;
  private readonly log: NonNullable<DriverOptions['log']>;
  private readonly bytesPerSample: number;
  private readonly pollMs: number;
  private readonly stallMs: number;
  private readonly sampleListeners: ((batch: SensorSample[]) => void)[] = [];
  private readonly stateListeners: ((s: SensorState) => void)[] = [];
  private readonly ledRed: LedController;
  private readonly ledIr: LedController;
  private readonly finger: FingerDetector;
  private st: SensorState;

  private running = false;
  /** Bumped on every start/stop so callbacks from an earlier run do nothing. */
  private generation = 0;
  private busy = false;
  private initialising = false;
  private again = false;
  private pollTimer: Timer | undefined;
  private retryTimer: Timer | undefined;
  private unwatch: (() => void) | undefined;
  private failures = 0;
  /** The cause the current fault was raised for, without the attempt count. */
  private faultCause: string | undefined;
  private configured = false;
  private lastDataAt = 0;
  private nextLostBefore = 0;
  private gapCarry = 0;
  /** Samples still to come before the first one measured at a new LED current. */
  private stepIn: number | undefined;
  private tempRequestedAt: number | undefined;
  private lastTempAt = Number.NEGATIVE_INFINITY;
  private readonly buf = Buffer.alloc(32);
  listenerErrors = 0;

  constructor(opts: DriverOptions) {
    this.config = validateConfig(opts.config);
    this.bus = opts.bus;
    this.int = opts.int;
    this.clock = opts.clock ?? realClock;
    this.address = opts.address ?? MAX30102_ADDRESS;
    this.kind = opts.kind ?? 'hardware';
    this.recovery = { ...DEFAULT_RECOVERY, ...(opts.recovery ?? {}) };
    this.log = opts.log ?? (() => {});
    this.sampleRateHz = fifoRateHz(this.config);
    this.bytesPerSample = this.config.mode === 'hr' ? 3 : 6;
    // Read every ~4 samples so the FIFO stays nearly empty: it then rides out a 50 ms event-loop
    // stall at 400 samples/s (20 samples) plus timer jitter on a busy Pi within its 32 slots.
    this.pollMs = this.config.pollIntervalMs ?? Math.min(50, Math.max(2, (4 / this.sampleRateHz) * 1000));
    this.stallMs = Math.max(500, ((3 * FIFO_DEPTH) / this.sampleRateHz) * 1000);
    this.ledRed = new LedController(opts.ledControl);
    this.ledIr = new LedController(opts.ledControl);
    this.finger = new FingerDetector({ ...DEFAULT_FINGER_DETECT, ...(opts.fingerDetect ?? {}) });
    this.st = {
      state: 'starting',
      lostSamples: 0,
      overflows: 0,
      ambientOverflows: 0,
      redLedMa: this.config.redLedMa,
      irLedMa: this.config.irLedMa,
    };
  }

  onSamples(cb: (batch: SensorSample[]) => void): void {
    this.sampleListeners.push(cb);
  }

  onState(cb: (s: SensorState) => void): void {
    this.stateListeners.push(cb);
  }

  state(): SensorState {
    return { ...this.st };
  }

  /**
   * Starts bring-up and returns: progress and faults arrive through `onState` (bring-up waits on the
   * injected clock, which a test may only advance after this returns).
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const gen = ++this.generation;
    this.setState('starting');
    if (this.int) this.unwatch = this.int.watch(() => this.kick(gen));
    void this.bringUpAndRun(gen);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.generation++;
    // A later start is a fresh start: the stopped time is not a gap in the signal.
    this.configured = false;
    this.pollTimer?.cancel();
    this.retryTimer?.cancel();
    this.unwatch?.();
    this.unwatch = undefined;
    // Shut the LEDs off (MODE_CONFIG SHDN); best effort, the bus may be the reason we stop.
    try {
      await this.op(REG.MODE_CONFIG, () => this.bus.writeByte(this.address, REG.MODE_CONFIG, MODE.SHDN));
    } catch {
      // nothing more to do: a dead bus cannot be shut down politely
    }
  }

  // ---- bring-up ---------------------------------------------------------------------------------

  private async bringUpAndRun(gen: number): Promise<void> {
    this.initialising = true;
    try {
      await this.bringUp();
      if (gen !== this.generation) return;
      if (this.configured) {
        // The reset emptied the FIFO: whatever was produced since the last read is gone.
        // Carry the fraction over so that many re-initialisations in a row do not add up rounding errors.
        const exact = ((this.clock.now() - this.lastDataAt) * this.sampleRateHz) / 1000 + this.gapCarry;
        const gap = Math.floor(exact);
        this.gapCarry = exact - gap;
        if (gap > 0) this.lose(gap);
      }
      this.configured = true;
      // `failures` is reset only by a successful FIFO read: a chip that configures fine and then
      // fails every read is still a fault.
      this.lastDataAt = this.clock.now();
      // A fault stands until samples flow again (see service), so a chip that configures but cannot be read does not flap.
      if (this.st.state !== 'fault') this.st.cause = undefined;
      this.schedulePoll(gen);
    } catch (err) {
      if (gen === this.generation) this.fail(err, gen);
    } finally {
      this.initialising = false;
    }
  }

  private async bringUp(): Promise<void> {
    const a = this.address;
    let partId: number;
    try {
      partId = await this.op(REG.PART_ID, () => this.bus.readByte(a, REG.PART_ID));
    } catch (err) {
      if (err instanceof I2cError && err.failure === 'NACK') {
        throw new SensorFaultError(
          `wrong or missing sensor: nothing answers at address ${hex(a)} (NACK); check the wiring and power`,
          true,
        );
      }
      throw err;
    }
    if (partId !== PART_ID_VALUE) {
      throw new SensorFaultError(
        `wrong or missing sensor: PART_ID ${hex(partId)} at address ${hex(a)} (a MAX30102 reads ${hex(PART_ID_VALUE)})`,
        true,
      );
    }
    // Mode Configuration RESET: every register to its power-on value; the bit clears itself when done.
    await this.write(REG.MODE_CONFIG, MODE.RESET);
    let resetDone = false;
    for (let i = 0; i < 50 && !resetDone; i++) {
      await this.sleep(1);
      resetDone = ((await this.read(REG.MODE_CONFIG)) & MODE.RESET) === 0;
    }
    if (!resetDone) throw new SensorFaultError('sensor reset did not complete within 50 ms (MODE_CONFIG RESET stayed set)');
    // Reading the status registers clears PWR_RDY and releases INT.
    await this.read(REG.INT_STATUS_1);
    await this.read(REG.INT_STATUS_2);
    const c = this.config;
    const fifoConfig = encodeFifoConfig(c.sampleAverage, false, FIFO_DEPTH - c.almostFullSamples);
    const spo2Config = encodeSpo2Config(c.adcRangeNa, c.sampleRate, c.pulseWidthUs);
    const mode = c.mode === 'hr' ? MODE.HR : MODE.SPO2;
    await this.write(REG.INT_ENABLE_1, INT1.A_FULL);
    await this.write(REG.INT_ENABLE_2, 0);
    // Clear the FIFO pointers before sampling starts (datasheet FIFO description).
    await this.write(REG.FIFO_WR_PTR, 0);
    await this.write(REG.OVF_COUNTER, 0);
    await this.write(REG.FIFO_RD_PTR, 0);
    // Rollover off: a full FIFO keeps its samples and counts the lost ones in OVF_COUNTER.
    await this.write(REG.FIFO_CONFIG, fifoConfig);
    await this.write(REG.SPO2_CONFIG, spo2Config);
    await this.write(REG.LED1_PA, ledCode(this.st.redLedMa));
    await this.write(REG.LED2_PA, c.mode === 'hr' ? 0 : ledCode(this.st.irLedMa));
    await this.write(REG.MODE_CONFIG, mode);
    // Read the configuration back: a chip that does not keep it is not one we can trust.
    const back = await this.block(REG.FIFO_CONFIG, 3);
    // Reserved bits (MODE_CONFIG 5:3, SPO2_CONFIG 7) are masked off: silicon may read them either way.
    if (back[0] !== fifoConfig || (back[1]! & 0x87) !== mode || (back[2]! & 0x7f) !== spo2Config) {
      throw new SensorFaultError(
        `configuration did not stick: FIFO_CONFIG ${hex(back[0]!)}/${hex(fifoConfig)}, MODE ${hex(back[1]!)}/${hex(mode)}, SPO2 ${hex(back[2]!)}/${hex(spo2Config)}`,
      );
    }
    // Pending gap marks survive a re-initialisation: they belong on the next sample delivered.
    this.stepIn = undefined;
    this.tempRequestedAt = undefined;
  }

  // ---- the read loop ------------------------------------------------------------------------------

  private schedulePoll(gen: number): void {
    this.pollTimer?.cancel();
    this.pollTimer = this.clock.setTimer(this.pollMs, () => {
      if (gen !== this.generation) return;
      this.kick(gen);
      this.schedulePoll(gen);
    });
  }

  private kick(gen: number): void {
    if (gen !== this.generation || !this.running || !this.configured || this.initialising || this.retryTimer) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.service(gen);
        } while (this.again && gen === this.generation);
      } catch (err) {
        if (gen === this.generation) this.fail(err, gen);
      } finally {
        this.busy = false;
      }
    })();
  }

  private async service(gen: number): Promise<void> {
    const now = this.clock.now();
    // One burst from INT_STATUS_1: clears the status (releasing INT) and fetches the FIFO pointers.
    const head = await this.block(REG.INT_STATUS_1, 7);
    if (gen !== this.generation) return;
    const [int1, , en1, , wrRaw, ovfRaw, rdRaw] = head;
    if ((en1! & 0xe0) !== INT1.A_FULL)
      throw new SensorFaultError(`sensor lost its configuration (INT_ENABLE_1 ${hex(en1!)}): power glitch or reset`);
    if (int1! & INT1.ALC_OVF) this.st.ambientOverflows++;
    const wr = wrRaw! & PTR_MASK;
    const rd = rdRaw! & PTR_MASK;
    const ovf = ovfRaw! & PTR_MASK;
    // available = (WR − RD) mod 32; equal pointers with a nonzero OVF_COUNTER mean a full FIFO.
    let available = (wr - rd) & PTR_MASK;
    if (available === 0 && ovf > 0) available = FIFO_DEPTH;
    await this.temperature(now);
    if (available === 0) {
      if (now - this.lastDataAt > this.stallMs) {
        throw new SensorFaultError(
          `FIFO pointers stuck (WR_PTR ${wr}, RD_PTR ${rd}): no samples for ${Math.round(now - this.lastDataAt)} ms`,
        );
      }
      return;
    }
    const batch = await this.readFifo(available);
    if (gen !== this.generation) return;
    // The chip's own account (pointers + OVF_COUNTER) must match the time elapsed; samples that
    // vanished without a trace (a wedged FIFO that came back) are counted from the clock instead.
    const expected = ((now - this.lastDataAt) * this.sampleRateHz) / 1000;
    const deficit = expected - available - ovf;
    // The wide margin keeps timer jitter and the chip's oscillator tolerance (a slow part delivers
    // fewer samples than nominal) from being taken for loss; past it, the whole deficit counts.
    if (ovf < PTR_MASK && deficit > 4 + 0.25 * expected) {
      const missing = Math.floor(deficit);
      this.lose(missing);
      this.log('warn', `${missing} samples missing from the FIFO without an overflow (stuck pointers?)`);
    }
    if (this.nextLostBefore > 0) {
      batch[0]!.lostBefore = this.nextLostBefore;
      this.nextLostBefore = 0;
    }
    if (ovf > 0) {
      // OVF_COUNTER counts samples dropped after the FIFO filled: the gap follows this batch.
      // It saturates at 31; past that, the time since the last drain tells how many were made.
      const produced = Math.round(((now - this.lastDataAt) * this.sampleRateHz) / 1000);
      const lost = ovf === PTR_MASK ? Math.max(ovf, produced - available) : ovf;
      this.st.overflows++;
      this.lose(lost);
      this.emitState();
    }
    this.lastDataAt = now;
    this.failures = 0;
    this.gapCarry = 0;
    if (this.st.state === 'fault') {
      this.faultCause = undefined;
      this.setState('starting', `recovered from: ${this.st.cause ?? 'fault'}`);
    }
    for (const s of batch) {
      if (this.stepIn === undefined) break;
      if (this.stepIn === 0) {
        s.ledStep = true;
        this.stepIn = undefined;
      } else this.stepIn--;
    }
    this.deliver(batch);
    await this.control(batch, now);
  }

  private async readFifo(count: number): Promise<SensorSample[]> {
    const bps = this.bytesPerSample;
    const perBurst = Math.floor(30 / bps);
    const out: SensorSample[] = [];
    for (let left = count; left > 0; ) {
      const n = Math.min(perBurst, left);
      // FIFO_DATA does not auto-increment: one burst pops n whole samples.
      const b = await this.block(REG.FIFO_DATA, n * bps);
      for (let i = 0; i < n; i++) {
        const o = i * bps;
        // 18-bit samples in bits 17:0 of each 3-byte word; bits 23:18 are not data.
        const red = ((b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!) & SAMPLE_MASK;
        const ir = bps === 6 ? ((b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) & SAMPLE_MASK : Number.NaN;
        out.push({ red, ir });
      }
      left -= n;
    }
    return out;
  }

  private async control(batch: SensorSample[], now: number): Promise<void> {
    const hr = this.config.mode === 'hr';
    let sumRed = 0;
    let sumIr = 0;
    for (const s of batch) {
      sumRed += s.red;
      sumIr += s.ir;
    }
    const dcRed = sumRed / batch.length;
    const dcIr = hr ? dcRed : sumIr / batch.length;
    const fingerOn = this.finger.update(dcIr, now);
    const want: SensorStateName = fingerOn ? 'ok' : 'finger-off';
    if (this.st.state !== want) this.setState(want);
    if (!this.config.autoLed) return;
    const newRed = this.ledRed.update(dcRed, now, this.st.redLedMa, fingerOn);
    const newIr = hr ? undefined : this.ledIr.update(dcIr, now, this.st.irLedMa, fingerOn);
    if (newRed === undefined && newIr === undefined) return;
    if (newRed !== undefined) {
      await this.write(REG.LED1_PA, ledCode(newRed));
      this.st.redLedMa = ledMa(ledCode(newRed));
    }
    if (newIr !== undefined) {
      await this.write(REG.LED2_PA, ledCode(newIr));
      this.st.irLedMa = ledMa(ledCode(newIr));
    }
    // Samples already in the FIFO were measured at the old current; the next one is the first at the new.
    const p = await this.block(REG.FIFO_WR_PTR, 3);
    const pending = (p[0]! - p[2]!) & PTR_MASK;
    this.stepIn = pending === 0 && p[1]! > 0 ? FIFO_DEPTH : pending;
    this.log(
      'info',
      `LED current red ${this.st.redLedMa} mA, IR ${this.st.irLedMa} mA (DC red ${Math.round(dcRed)}, IR ${Math.round(dcIr)})`,
    );
    this.emitState();
  }

  /** Die temperature once a second: TEMP_EN starts a ~29 ms conversion and clears itself when done. */
  private async temperature(now: number): Promise<void> {
    if (this.tempRequestedAt === undefined) {
      if (now - this.lastTempAt < 1000) return;
      await this.write(REG.TEMP_CONFIG, TEMP_EN);
      this.tempRequestedAt = now;
      this.lastTempAt = now;
      return;
    }
    if (now - this.tempRequestedAt < 30) return;
    if ((await this.read(REG.TEMP_CONFIG)) & TEMP_EN) {
      if (now - this.tempRequestedAt > 1000) this.tempRequestedAt = undefined;
      return;
    }
    const t = await this.block(REG.TEMP_INT, 2);
    this.st.dieTempC = decodeDieTemp(t[0]!, t[1]!);
    this.tempRequestedAt = undefined;
  }

  // ---- faults -------------------------------------------------------------------------------------

  private fail(err: unknown, gen: number): void {
    if (!this.running) return;
    this.pollTimer?.cancel();
    this.failures++;
    const cause =
      err instanceof SensorFaultError || err instanceof I2cError ? err.message : `unexpected: ${(err as Error)?.message ?? String(err)}`;
    const persistent = err instanceof SensorFaultError && err.persistent;
    let delay: number;
    if (persistent || this.failures >= this.recovery.attempts) {
      if (this.st.state !== 'fault' || this.faultCause !== cause) {
        this.faultCause = cause;
        this.log('error', `sensor fault: ${cause}`);
        this.setState('fault', persistent ? cause : `${cause} (${this.failures} attempts)`);
      }
      delay = this.recovery.faultRetryMs;
    } else {
      this.log('warn', `sensor error, re-initialising (attempt ${this.failures}): ${cause}`);
      this.st.cause = cause;
      delay = Math.min(this.recovery.maxDelayMs, this.recovery.baseDelayMs * 2 ** (this.failures - 1));
    }
    this.retryTimer?.cancel();
    this.retryTimer = this.clock.setTimer(delay, () => {
      this.retryTimer = undefined;
      if (gen === this.generation) void this.bringUpAndRun(gen);
    });
  }

  private lose(n: number): void {
    this.st.lostSamples += n;
    this.nextLostBefore += n;
  }

  // ---- bus helpers --------------------------------------------------------------------------------

  /** Runs one transaction with a deadline; every failure comes out as an I2cError naming the register. */
  private op<T>(register: number, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimer(this.recovery.opTimeoutMs, () =>
        reject(
          new I2cError(
            'TIMEOUT',
            register,
            `I2C TIMEOUT at register ${hex(register)}: no answer within ${this.recovery.opTimeoutMs} ms (hung bus?)`,
          ),
        ),
      );
      fn().then(
        (v) => {
          timer.cancel();
          resolve(v);
        },
        (e: unknown) => {
          timer.cancel();
          reject(classifyI2cError(e, register));
        },
      );
    });
  }

  private read(reg: number): Promise<number> {
    return this.op(reg, () => this.bus.readByte(this.address, reg));
  }

  private write(reg: number, value: number): Promise<void> {
    return this.op(reg, () => this.bus.writeByte(this.address, reg, value));
  }

  private async block(reg: number, length: number): Promise<Buffer> {
    const r = await this.op(reg, () => this.bus.readI2cBlock(this.address, reg, length, this.buf));
    if (r.bytesRead !== length)
      throw new I2cError('OTHER', reg, `I2C short read at register ${hex(reg)}: ${r.bytesRead} of ${length} bytes`);
    return Buffer.from(r.buffer.subarray(0, length));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimer(ms, resolve));
  }

  // ---- listeners ----------------------------------------------------------------------------------

  private setState(state: SensorStateName, cause?: string): void {
    this.st.state = state;
    this.st.cause = cause;
    this.emitState();
  }

  private emitState(): void {
    const snapshot = this.state();
    for (const cb of this.stateListeners) {
      try {
        cb(snapshot);
      } catch (err) {
        this.listenerErrors++;
        this.log('error', `sensor state listener threw: ${(err as Error)?.message}`);
      }
    }
  }

  private deliver(batch: SensorSample[]): void {
    for (const cb of this.sampleListeners) {
      try {
        cb(batch);
      } catch (err) {
        // A consumer's bug must not stop the sensor.
        this.listenerErrors++;
        this.log('error', `sample listener threw: ${(err as Error)?.message}`);
      }
    }
  }
}
