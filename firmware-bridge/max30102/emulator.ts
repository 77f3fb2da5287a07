/**
 * A MAX30102 at the register level, behind the same `I2CBus` the hardware uses.
 *
 * What it reproduces (datasheet 19-7740 Rev 1): power-on/reset register values and PART_ID 0x15;
 * the soft reset that clears itself; register auto-increment on burst reads except at FIFO_DATA,
 * which keeps returning FIFO bytes; interrupt status registers that clear on read and drive the
 * active-low INT pin; the 32-sample FIFO with 5-bit write/read pointers, the almost-full flag,
 * rollover on or off, and OVF_COUNTER (saturating at 31, cleared when a sample is popped);
 * samples produced at SPO2_SR / SMP_AVE in emulated time; LED currents and ADC range scaling the
 * light; resolution set by the pulse width (left-justified in 18 bits) with junk in bits 23:18;
 * the die temperature conversion started by TEMP_EN; an optional sample-clock error. Fault injection: NACK or EIO on chosen
 * registers, an absent device, a wrong PART_ID, stuck FIFO pointers, a hung bus, transient errors.
 */
import type { Clock, Timer } from '../clock.ts';
import { realClock } from '../clock.ts';
import { MemoryGpioInput } from '../gpio-memory.ts';
import type { BytesRead, I2CBus } from '../i2c.ts';
import { I2C_BLOCK_MAX } from '../i2c.ts';
import { type OpticalSource, REFERENCE_ADC_RANGE_NA, REFERENCE_LED_MA } from '../sources/optical.ts';
import { mulberry32 } from '../sources/random.ts';
import {
  ADC_BITS,
  decodeFifoConfig,
  decodeSpo2Config,
  FIFO_DEPTH,
  FULL_SCALE,
  INT1,
  INT2,
  ledMa,
  MAX30102_ADDRESS,
  MODE,
  PART_ID_VALUE,
  PTR_MASK,
  REG,
  TEMP_EN,
} from './registers.ts';

export interface EmulatorFaults {
  /** No device answers at the address: every transaction NACKs. */
  absent?: boolean;
  /** Registers whose access NACKs (ENXIO from i2c-dev). */
  nackRegisters?: readonly number[];
  /** Registers whose access fails with EIO. */
  eioRegisters?: readonly number[];
  /** PART_ID reads this instead of 0x15 (a different chip). */
  partId?: number;
  /** The write pointer stops: no new samples reach the FIFO and nothing counts as lost. */
  stuckFifo?: boolean;
  /** Transactions never complete (SDA held low by a wedged slave). */
  hungBus?: boolean;
  /** The next N transactions fail with EIO, then the bus recovers. */
  failNext?: number;
}

export interface EmulatorOptions {
  source: OpticalSource;
  clock?: Clock;
  /** Die temperature the emulated chip reports, °C. */
  dieTempC?: number;
  faults?: EmulatorFaults;
  /** Sample-clock error of this part, e.g. −0.05 for an oscillator 5 % slow (default 0). */
  rateError?: number;
  /** Seed for the junk in bits 23:18. */
  seed?: number;
  /** 7-bit I2C address the chip answers at (default 0x57). */
  address?: number;
}

export interface EmulatorStats {
  transactions: number;
  fifoBytesRead: number;
  samplesProduced: number;
  samplesLost: number;
}

/** Ambient residual above this many counts saturates the ambient-light cancellation (ALC_OVF). */
const ALC_OVERFLOW_COUNTS = 0.5 * FULL_SCALE;
/** Temperature conversion time (datasheet: 29 ms typical). */
const TEMP_CONVERSION_MS = 29;
/** The soft reset completes in well under a millisecond; 1 ms lets the driver's wait loop run. */
const RESET_MS = 1;

function i2cError(code: 'EIO' | 'ENXIO', register: number): Error {
  const errno = code === 'EIO' ? 5 : 6;
  return Object.assign(
    new Error(`${code}: ${code === 'EIO' ? 'i/o error' : 'no such device or address'}, register 0x${register.toString(16)}`),
    {
      code,
      errno,
      syscall: 'ioctl',
    },
  );
}

export class Max30102Emulator implements I2CBus {
  readonly address: number;
  /** The INT pin, active low, open drain with a pull-up: 1 when idle. */
  readonly int = new MemoryGpioInput(1, 'falling');
  faults: EmulatorFaults;
  dieTempC: number;
  private readonly rateError: number;
  readonly stats: EmulatorStats = { transactions: 0, fifoBytesRead: 0, samplesProduced: 0, samplesLost: 0 };

  private readonly clock: Clock;
  private readonly source: OpticalSource;
  private readonly regs = new Uint8Array(256);
  private readonly fifo = new Uint8Array(FIFO_DEPTH * 6);
  private readonly junk: () => number;
  private byteInSample = 0;
  /** Write pointer caught up with the read pointer from behind: equal pointers then mean 32 unread, not 0. */
  private full = false;
  private aFullLatched = false;
  /** Emulated time the current sampling run started, and samples made since. */
  private anchorMs = 0;
  private produced = 0;
  private sourceStartMs: number;
  private intTimer: Timer | undefined;
  private tempTimer: Timer | undefined;
  private resetUntil = 0;
  private closed = false;

  constructor(opts: EmulatorOptions) {
    this.clock = opts.clock ?? realClock;
    this.source = opts.source;
    this.faults = { ...(opts.faults ?? {}) };
    this.dieTempC = opts.dieTempC ?? 31.25;
    this.rateError = opts.rateError ?? 0;
    this.address = opts.address ?? MAX30102_ADDRESS;
    this.junk = mulberry32(opts.seed ?? 7);
    this.sourceStartMs = this.clock.now();
    this.powerOnReset();
    // PWR_RDY: set at power-up, and it is always enabled (Interrupt Status 1, bit 0).
    this.regs[REG.INT_STATUS_1] = INT1.PWR_RDY;
    this.updateInt();
  }

  /** Replaces the active faults (tests inject and clear them while the driver runs). */
  inject(faults: EmulatorFaults): void {
    this.faults = { ...faults };
  }

  /** Current unread samples, FIFO pointers and overflow counter, without side effects. */
  peek(): { wr: number; rd: number; ovf: number; unread: number; redMa: number; irMa: number; mode: number } {
    this.catchUp();
    const wr = this.regs[REG.FIFO_WR_PTR]!;
    const rd = this.regs[REG.FIFO_RD_PTR]!;
    const ovf = this.regs[REG.OVF_COUNTER]!;
    return {
      wr,
      rd,
      ovf,
      unread: this.unread(),
      redMa: ledMa(this.regs[REG.LED1_PA]!),
      irMa: ledMa(this.regs[REG.LED2_PA]!),
      mode: this.regs[REG.MODE_CONFIG]!,
    };
  }

  // ---- I2CBus -------------------------------------------------------------------------------

  readByte(address: number, command: number): Promise<number> {
    return this.transaction(address, command, () => this.readReg(command));
  }

  writeByte(address: number, command: number, byte: number): Promise<void> {
    return this.transaction(address, command, () => this.writeReg(command, byte & 0xff));
  }

  readI2cBlock(address: number, command: number, length: number, buffer: Buffer): Promise<BytesRead> {
    if (!Number.isInteger(length) || length < 1 || length > I2C_BLOCK_MAX || length > buffer.length) {
      return Promise.reject(new RangeError(`readI2cBlock: length ${length} must be 1–${I2C_BLOCK_MAX} and fit the buffer`));
    }
    return this.transaction(address, command, () => {
      let reg = command;
      for (let i = 0; i < length; i++) {
        buffer[i] = this.readReg(reg);
        // The register pointer auto-increments, except at FIFO_DATA so a burst drains the FIFO.
        if (reg !== REG.FIFO_DATA) reg = (reg + 1) & 0xff;
      }
      return { bytesRead: length, buffer };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.intTimer?.cancel();
    this.tempTimer?.cancel();
  }

  // ---- transactions and faults ---------------------------------------------------------------

  private transaction<T>(address: number, register: number, body: () => T): Promise<T> {
    this.stats.transactions++;
    const f = this.faults;
    if (f.hungBus) return new Promise<T>(() => {});
    if (this.closed) return Promise.reject(Object.assign(new Error('bus closed'), { code: 'EBADF' }));
    if (address !== this.address || f.absent || f.nackRegisters?.includes(register)) return Promise.reject(i2cError('ENXIO', register));
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return Promise.reject(i2cError('EIO', register));
    }
    if (f.eioRegisters?.includes(register)) return Promise.reject(i2cError('EIO', register));
    try {
      this.catchUp();
      const out = body();
      this.updateInt();
      this.scheduleInt();
      return Promise.resolve(out);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // ---- registers ------------------------------------------------------------------------------

  private powerOnReset(): void {
    this.regs.fill(0);
    this.regs[REG.PART_ID] = PART_ID_VALUE;
    this.regs[REG.REV_ID] = 0x03;
    this.byteInSample = 0;
    this.full = false;
    this.aFullLatched = false;
    this.rearm();
  }

  private readReg(reg: number): number {
    switch (reg) {
      case REG.INT_STATUS_1: {
        // Reading an interrupt status register clears it (and releases INT).
        const v = this.regs[reg]!;
        this.regs[reg] = 0;
        return v;
      }
      case REG.INT_STATUS_2: {
        const v = this.regs[reg]!;
        this.regs[reg] = 0;
        return v;
      }
      case REG.FIFO_DATA:
        return this.popFifoByte();
      case REG.PART_ID:
        return this.faults.partId ?? PART_ID_VALUE;
      case REG.MODE_CONFIG:
        return this.clock.now() < this.resetUntil ? this.regs[reg]! | MODE.RESET : this.regs[reg]!;
      default:
        return this.regs[reg]!;
    }
  }

  private writeReg(reg: number, v: number): void {
    switch (reg) {
      case REG.INT_STATUS_1:
      case REG.INT_STATUS_2:
      case REG.FIFO_DATA:
      case REG.TEMP_INT:
      case REG.TEMP_FRAC:
      case REG.REV_ID:
      case REG.PART_ID:
        return; // read-only
      case REG.MODE_CONFIG:
        if (v & MODE.RESET) {
          // RESET puts every register back to its power-on value, then clears itself.
          this.tempTimer?.cancel();
          this.powerOnReset();
          this.resetUntil = this.clock.now() + RESET_MS;
          return;
        }
        this.regs[reg] = v & (MODE.SHDN | 0x07);
        this.rearm();
        return;
      case REG.SPO2_CONFIG:
        this.regs[reg] = v & 0x7f;
        this.rearm();
        return;
      case REG.FIFO_CONFIG:
        this.regs[reg] = v;
        this.rearm();
        return;
      case REG.FIFO_WR_PTR:
      case REG.FIFO_RD_PTR:
      case REG.OVF_COUNTER:
        this.regs[reg] = v & PTR_MASK;
        if (reg !== REG.OVF_COUNTER) {
          this.byteInSample = 0;
          this.full = false;
        }
        return;
      case REG.TEMP_CONFIG:
        this.regs[reg] = v & TEMP_EN;
        if (v & TEMP_EN) this.startTemperature();
        return;
      default:
        this.regs[reg] = v;
    }
  }

  // ---- sampling -------------------------------------------------------------------------------

  private sampling(): boolean {
    const mode = this.regs[REG.MODE_CONFIG]!;
    const m = mode & 0x07;
    return !(mode & MODE.SHDN) && (m === MODE.SPO2 || m === MODE.HR) && this.clock.now() >= this.resetUntil;
  }

  private bytesPerSample(): number {
    return (this.regs[REG.MODE_CONFIG]! & 0x07) === MODE.HR ? 3 : 6;
  }

  private periodMs(): number {
    const { sampleRate } = decodeSpo2Config(this.regs[REG.SPO2_CONFIG]!);
    const { average } = decodeFifoConfig(this.regs[REG.FIFO_CONFIG]!);
    return (1000 * average) / (sampleRate * (1 + this.rateError));
  }

  /** A configuration change restarts the sample clock from now. */
  private rearm(): void {
    this.anchorMs = Math.max(this.clock.now(), this.resetUntil);
    this.produced = 0;
  }

  private unread(): number {
    const wr = this.regs[REG.FIFO_WR_PTR]!;
    const rd = this.regs[REG.FIFO_RD_PTR]!;
    const n = (wr - rd) & PTR_MASK;
    // Equal pointers mean empty, or full when samples have been lost since.
    return n === 0 && this.full ? FIFO_DEPTH : n;
  }

  /** Brings the FIFO up to the present: every sample due since the last access is made now. */
  private catchUp(): void {
    if (!this.sampling()) {
      this.anchorMs = Math.max(this.clock.now(), this.resetUntil);
      this.produced = 0;
      return;
    }
    const period = this.periodMs();
    const due = Math.floor((this.clock.now() - this.anchorMs) / period) - this.produced;
    if (due <= 0) return;
    const { rollover } = decodeFifoConfig(this.regs[REG.FIFO_CONFIG]!);
    const at = (index: number) => (this.anchorMs + (index + 1) * period - this.sourceStartMs) / 1000;
    if (rollover) {
      // Rollover keeps the newest samples: only the last FIFO_DEPTH + 1 can survive, the older ones are overwritten anyway.
      const skip = Math.max(0, due - (FIFO_DEPTH + 1));
      for (let k = 0; k < due; k++) this.push(k < skip ? undefined : at(this.produced + k), true);
    } else {
      // Rollover off keeps the oldest: once full, every later sample is only counted as lost.
      for (let k = 0; k < due; k++) {
        if (!this.faults.stuckFifo && this.unread() === FIFO_DEPTH) {
          const lost = due - k;
          this.stats.samplesProduced += lost;
          this.stats.samplesLost += lost;
          this.regs[REG.OVF_COUNTER] = Math.min(PTR_MASK, this.regs[REG.OVF_COUNTER]! + lost);
          break;
        }
        this.push(at(this.produced + k), false);
      }
    }
    this.produced += due;
  }

  private push(tS: number | undefined, rollover: boolean): void {
    this.stats.samplesProduced++;
    if (this.faults.stuckFifo) return;
    const isFull = this.unread() === FIFO_DEPTH;
    if (isFull && !rollover) {
      // FIFO full, rollover off: the sample is lost and counted (OVF_COUNTER saturates at 0x1F).
      this.regs[REG.OVF_COUNTER] = Math.min(PTR_MASK, this.regs[REG.OVF_COUNTER]! + 1);
      this.stats.samplesLost++;
      return;
    }
    if (isFull && rollover) {
      // Rollover: the oldest sample is overwritten and the read pointer moves past it.
      this.regs[REG.OVF_COUNTER] = Math.min(PTR_MASK, this.regs[REG.OVF_COUNTER]! + 1);
      this.regs[REG.FIFO_RD_PTR] = (this.regs[REG.FIFO_RD_PTR]! + 1) & PTR_MASK;
      this.byteInSample = 0;
      this.stats.samplesLost++;
    }
    const wr = this.regs[REG.FIFO_WR_PTR]!;
    this.writeSample(wr, tS);
    this.regs[REG.FIFO_WR_PTR] = (wr + 1) & PTR_MASK;
    this.full = ((wr + 1) & PTR_MASK) === this.regs[REG.FIFO_RD_PTR];
    const { aFull } = decodeFifoConfig(this.regs[REG.FIFO_CONFIG]!);
    // A_FULL fires when only FIFO_A_FULL free slots remain.
    if (!this.aFullLatched && this.unread() >= FIFO_DEPTH - aFull) {
      this.aFullLatched = true;
      this.regs[REG.INT_STATUS_1]! |= INT1.A_FULL;
    }
  }

  private writeSample(slot: number, tS: number | undefined): void {
    const cfg = decodeSpo2Config(this.regs[REG.SPO2_CONFIG]!);
    const light = tS === undefined ? { red: 0, ir: 0, ambient: 0 } : this.source.at(Math.max(0, tS));
    const gain = REFERENCE_ADC_RANGE_NA / cfg.adcRangeNa;
    const ambient = light.ambient ?? 0;
    if (ambient > ALC_OVERFLOW_COUNTS) this.regs[REG.INT_STATUS_1]! |= INT1.ALC_OVF;
    const drop = 18 - ADC_BITS[cfg.pulseWidth];
    const count = (signal: number, ledReg: number) => {
      const v = (signal * (ledMa(this.regs[ledReg]!) / REFERENCE_LED_MA) + ambient) * gain;
      const clamped = Math.max(0, Math.min(FULL_SCALE, Math.round(v)));
      // Lower resolutions are left-justified in the 18-bit word; bits 23:18 are not data.
      return ((clamped >> drop) << drop) | ((Math.floor(this.junk() * 64) & 0x3f) << 18);
    };
    const base = slot * 6;
    const words =
      this.bytesPerSample() === 3 ? [count(light.red, REG.LED1_PA)] : [count(light.red, REG.LED1_PA), count(light.ir, REG.LED2_PA)];
    words.forEach((w, i) => {
      this.fifo[base + i * 3] = (w >> 16) & 0xff;
      this.fifo[base + i * 3 + 1] = (w >> 8) & 0xff;
      this.fifo[base + i * 3 + 2] = w & 0xff;
    });
  }

  private popFifoByte(): number {
    // Reading FIFO_DATA also clears A_FULL (Interrupt Status 1 description).
    this.regs[REG.INT_STATUS_1]! &= ~INT1.A_FULL;
    this.aFullLatched = false;
    if (this.unread() === 0) return 0;
    const rd = this.regs[REG.FIFO_RD_PTR]!;
    const v = this.fifo[rd * 6 + this.byteInSample]!;
    this.stats.fifoBytesRead++;
    if (++this.byteInSample === this.bytesPerSample()) {
      this.byteInSample = 0;
      this.regs[REG.FIFO_RD_PTR] = (rd + 1) & PTR_MASK;
      this.full = false;
      // Popping a whole sample clears OVF_COUNTER.
      this.regs[REG.OVF_COUNTER] = 0;
    }
    return v;
  }

  // ---- INT pin and timers -----------------------------------------------------------------------

  private updateInt(): void {
    const pending =
      (this.regs[REG.INT_STATUS_1]! & (this.regs[REG.INT_ENABLE_1]! | INT1.PWR_RDY)) |
      (this.regs[REG.INT_STATUS_2]! & this.regs[REG.INT_ENABLE_2]!);
    this.int.set(pending ? 0 : 1);
  }

  /** Wakes at the moment the FIFO will reach its almost-full level, so INT falls on time with nobody polling. */
  private scheduleInt(): void {
    this.intTimer?.cancel();
    this.intTimer = undefined;
    if (this.closed || !this.sampling() || this.aFullLatched || this.faults.stuckFifo) return;
    const { aFull } = decodeFifoConfig(this.regs[REG.FIFO_CONFIG]!);
    const need = FIFO_DEPTH - aFull - this.unread();
    const at = this.anchorMs + (this.produced + Math.max(1, need)) * this.periodMs();
    this.intTimer = this.clock.setTimer(at - this.clock.now(), () => {
      this.intTimer = undefined;
      this.catchUp();
      this.updateInt();
      this.scheduleInt();
    });
  }

  private startTemperature(): void {
    this.tempTimer?.cancel();
    this.tempTimer = this.clock.setTimer(TEMP_CONVERSION_MS, () => {
      const t = this.dieTempC;
      const whole = Math.floor(t);
      this.regs[REG.TEMP_INT] = whole & 0xff;
      this.regs[REG.TEMP_FRAC] = Math.floor((t - whole) / 0.0625) & 0x0f;
      this.regs[REG.TEMP_CONFIG]! &= ~TEMP_EN;
      this.regs[REG.INT_STATUS_2]! |= INT2.DIE_TEMP_RDY;
      this.updateInt();
    });
  }
}
