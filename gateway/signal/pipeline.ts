/**
 * Streaming vitals pipeline: raw red/IR samples in, one estimate per second
 * of samples out. Pure (no I/O, no clock): time is the sample count.
 *
 * Per sample, at the input rate: −ln(raw) turns the PPG into absorbance, so
 * an LED-current change (a multiplicative gain step) becomes an additive
 * offset that is cancelled exactly, and the band-passed signal is directly
 * AC/DC (unmarked jumps over 15 % are cancelled the same way, and counted as
 * artifacts); an anti-alias low-pass; linear resampling to a fixed internal
 * rate, so every later stage is the same code from 25 to 400 Hz.
 * Per internal sample: band-pass 0.5–5 Hz (30–240 bpm with the harmonics
 * that shape a beat) into rings.
 * Per second: rhythm, beats, R and quality over the last window.
 */
import type { QualityReason } from '../../protocol/schemas.ts';
import {
  allocBeats,
  detectBeats,
  dominantPeriod,
  median,
  resolveAlternans,
  rhythmFromBeats,
  select,
  templateCorrelation,
} from './beats.ts';
import { type Calibration, getCalibration, spo2FromRatio } from './calibrations.ts';
import { Biquad, Ring } from './filters.ts';
import { assessQuality, QUALITY, type WindowFeatures } from './quality.ts';
import { ratioOfRatios } from './spo2.ts';

export interface VitalsEstimate {
  /** Seconds since stream start (sample count / rate). */
  t: number;
  hr: number | null;
  spo2: number | null;
  pi: number | null;
  sqi: number;
  reasons: QualityReason[];
  /** Ratio of ratios behind the SpO2 (null with it); for calibration work. */
  r: number | null;
}

export interface PipelineOptions {
  rateHz: number;
  /** Calibration name (default 'max30102') or a curve object (leave-one-out fitting). */
  calibration?: string | Calibration;
  /** ADC full scale in counts; default 2^18 − 1 (MAX30102: 18-bit, datasheet "SpO2 ADC resolution"). */
  fullScale?: number;
  /** Diagnostics: called with each window's quality features (benchmarks, tuning). */
  onFeatures?: (t: number, features: Readonly<WindowFeatures>) => void;
}

export const MAX30102_FULL_SCALE = 0x3ffff;
/** Internal processing rate, Hz. */
export const INTERNAL_RATE = 50;
/** Analysis window, seconds. */
export const WINDOW_S = 8;
/** Data needed before the first number in a stream, seconds. */
export const WARM_UP_S = 3;
/** Data a whole short recording may be judged on at its end (`estimate()`), seconds. */
export const SHORT_RECORDING_MIN_S = 2.5;
/** One-sample change of ln(raw) treated as a gain step, not physiology (> 15 %). */
const JUMP = 0.15;
/** How far back the untrusted amplitude history reaches, seconds (one entry per pulse-bearing window). */
const RECENT_AMP_S = 60;
/** Entries the history needs before it is a yardstick. */
const RECENT_AMP_MIN = 5;
/** Autocorrelation at the pulse period a window needs to join that history. */
const RECENT_AMP_MIN_PERIODICITY = 0.3;

const FS = INTERNAL_RATE;
const WIN = WINDOW_S * FS;

class Channel {
  present = false;
  private offset = 0;
  private lastLn = Number.NaN;
  private readonly aa1: Biquad;
  private readonly aa2: Biquad;
  private readonly hp: Biquad;
  private readonly lp: Biquad;
  prev = Number.NaN;
  cur = Number.NaN;
  readonly bp = new Ring(WIN);
  /** Largest |second difference| of the absorbance before the band-pass, per second: a spike is sharp, a pulse is not. */
  readonly secSharpness = new Float64Array(WINDOW_S);
  private v1 = Number.NaN;
  private v2 = Number.NaN;
  // Per-second raw statistics over the window (cyclic by second).
  readonly secSum = new Float64Array(WINDOW_S);
  readonly secCount = new Float64Array(WINDOW_S);
  readonly secClipped = new Float64Array(WINDOW_S);
  /** Unannounced jumps (no LED-step mark) cancelled like gain steps: spikes, knocks, a loose contact. */
  readonly secJumps = new Float64Array(WINDOW_S);

  constructor(rateHz: number) {
    const aaFc = Math.min(10, 0.35 * rateHz);
    this.aa1 = Biquad.lowpass(aaFc, rateHz);
    this.aa2 = Biquad.lowpass(aaFc, rateHz);
    this.hp = Biquad.highpass(0.5, FS);
    this.lp = Biquad.lowpass(5, FS);
  }

  /** Absorbance of one raw sample, with gain steps removed; NaN stays NaN. */
  input(raw: number, ledStep: boolean, sec: number, fullScale: number): void {
    if (Number.isNaN(raw)) return;
    this.present = true;
    // A value no ADC can produce (±Infinity, beyond full scale) is read as clipped, never fed on.
    if (!Number.isFinite(raw)) raw = raw > 0 ? fullScale : 0;
    this.secCount[sec]! += 1;
    this.secSum[sec]! += raw;
    const clipped = raw >= fullScale * 0.998 || raw <= 0;
    if (clipped) this.secClipped[sec]! += 1;
    const ln = -Math.log(Math.max(raw, 1));
    if (Number.isNaN(this.lastLn)) {
      this.aa1.settle(ln);
      this.aa2.settle(ln);
      this.hp.settle(ln);
      this.lp.settle(0);
    } else if (ledStep || Math.abs(ln - this.lastLn) > JUMP) {
      // Keep the absorbance continuous across a gain step: the filters never see it.
      this.offset += this.lastLn - ln;
      if (!ledStep) this.secJumps[sec]! += 1;
    }
    this.lastLn = ln;
    this.prev = this.cur;
    this.cur = this.aa2.step(this.aa1.step(ln + this.offset));
    if (Number.isNaN(this.prev)) this.prev = this.cur;
  }

  /** One internal-rate sample, interpolated between the last two inputs. */
  emit(frac: number, sec: number): void {
    const v = this.prev + frac * (this.cur - this.prev);
    this.bp.push(this.lp.step(this.hp.step(v)));
    if (!Number.isNaN(this.v2)) {
      const sharp = Math.abs(v - 2 * this.v1 + this.v2);
      if (sharp > this.secSharpness[sec]!) this.secSharpness[sec] = sharp;
    }
    this.v2 = this.v1;
    this.v1 = v;
  }

  /** Largest sharpness over the window. */
  maxSharpness(): number {
    let max = 0;
    for (let i = 0; i < WINDOW_S; i++) if (this.secSharpness[i]! > max) max = this.secSharpness[i]!;
    return max;
  }

  resetSecond(sec: number): void {
    this.secSum[sec] = 0;
    this.secCount[sec] = 0;
    this.secClipped[sec] = 0;
    this.secJumps[sec] = 0;
    this.secSharpness[sec] = 0;
  }

  rawStats(): { dc: number; clipped: number; jumps: number } {
    let sum = 0;
    let count = 0;
    let clipped = 0;
    let jumps = 0;
    for (let i = 0; i < WINDOW_S; i++) {
      sum += this.secSum[i]!;
      count += this.secCount[i]!;
      clipped += this.secClipped[i]!;
      jumps += this.secJumps[i]!;
    }
    return { dc: count > 0 ? sum / count : Number.NaN, clipped: count > 0 ? clipped / count : 0, jumps };
  }
}

export class VitalsPipeline {
  readonly rateHz: number;
  readonly calibration: Calibration;
  readonly fullScale: number;
  private readonly onFeatures: PipelineOptions['onFeatures'];
  private readonly red: Channel;
  private readonly ir: Channel;
  private inputCount = 0;
  /** Next internal sample time, in input samples. */
  private nextOut = 0;
  private readonly outStep: number;
  private nextEstimate: number;
  private seconds = 0;
  // Scratch for the per-second analysis: allocated once.
  private readonly xIr = new Float64Array(WIN);
  private readonly xRed = new Float64Array(WIN);
  private readonly xHalf = new Float64Array(WIN >> 1);
  private readonly acf = new Float64Array(Math.ceil((FS * 60) / 30) + 4);
  private readonly beats = allocBeats(64);
  private readonly scratch = new Float64Array(WIN);
  private readonly template = new Float64Array(2 * FS + 4);
  /** Pulse amplitude of recent trusted windows: motion and pulse loss show as sudden departures from it. */
  private trustedAmp = Number.NaN;
  private untrustedSeconds = 0;
  private candidateAmp = 0;
  private candidateCount = 0;
  /**
   * Beat amplitudes of the last minute's pulse-bearing windows, whatever their
   * quality: a swing many times the usual pulse is motion even where no window
   * was ever trusted (a weak camera signal). Windows caught as motion do not
   * join, and entries expire after a minute, so a real change of placement
   * is learnt within a minute.
   */
  private readonly recentAmps = new Float64Array(RECENT_AMP_S);
  private readonly recentScratch = new Float64Array(RECENT_AMP_S);
  private readonly recentAt = new Float64Array(RECENT_AMP_S).fill(Number.NEGATIVE_INFINITY);
  private recentNext = 0;

  constructor(opts: PipelineOptions) {
    if (!(Number.isFinite(opts.rateHz) && opts.rateHz >= 10 && opts.rateHz <= 4000)) {
      throw new RangeError(`sample rate ${opts.rateHz} Hz is outside 10..4000 Hz`);
    }
    this.rateHz = opts.rateHz;
    this.calibration = typeof opts.calibration === 'object' ? opts.calibration : getCalibration(opts.calibration);
    this.fullScale = opts.fullScale ?? MAX30102_FULL_SCALE;
    this.onFeatures = opts.onFeatures;
    this.red = new Channel(opts.rateHz);
    this.ir = new Channel(opts.rateHz);
    this.outStep = opts.rateHz / FS;
    this.nextEstimate = opts.rateHz;
  }

  /**
   * Feed one sample; red or ir may be NaN when that channel is absent.
   * `ledStep` marks the first sample after an LED-current change. Returns an
   * estimate once per second of samples, otherwise undefined.
   */
  push(red: number, ir: number, ledStep = false): VitalsEstimate | undefined {
    const sec = this.seconds % WINDOW_S;
    this.red.input(red, ledStep, sec, this.fullScale);
    this.ir.input(ir, ledStep, sec, this.fullScale);
    const i = this.inputCount++;
    while (this.nextOut <= i) {
      const frac = 1 - (i - this.nextOut);
      if (this.red.present) this.red.emit(frac, sec);
      if (this.ir.present) this.ir.emit(frac, sec);
      this.nextOut += this.outStep;
    }
    if (this.inputCount < this.nextEstimate) return undefined;
    this.seconds++;
    this.nextEstimate = (this.seconds + 1) * this.rateHz;
    const estimate = this.judge(WARM_UP_S);
    const next = this.seconds % WINDOW_S;
    this.red.resetSecond(next);
    this.ir.resetSecond(next);
    return estimate;
  }

  /**
   * Follow the pulse amplitude of good, still windows (time constant ~10 s).
   * The first value is only adopted after five good windows in a row agree
   * on it within ±30 %, so that motion at switch-on is not learnt as the
   * pulse. After two minutes without a good window, start again: a new
   * placement or a real change in perfusion must not be flagged forever.
   */
  private learnAmplitude(sqi: number, amp: number, reasons: readonly QualityReason[]): void {
    const good = sqi >= 0.8 && amp > 0 && !reasons.includes('motion') && !reasons.includes('low-perfusion');
    if (Number.isNaN(this.trustedAmp)) {
      const agrees = good && this.candidateAmp > 0 && amp > 0.7 * this.candidateAmp && amp < 1.4 * this.candidateAmp;
      if (!good) this.candidateCount = 0;
      else if (!agrees) {
        this.candidateAmp = amp;
        this.candidateCount = 1;
      } else {
        this.candidateAmp = 0.7 * this.candidateAmp + 0.3 * amp;
        if (++this.candidateCount >= 5) this.trustedAmp = this.candidateAmp;
      }
      return;
    }
    if (good) {
      this.trustedAmp = 0.9 * this.trustedAmp + 0.1 * amp;
      this.untrustedSeconds = 0;
    } else if (++this.untrustedSeconds > 120) {
      this.trustedAmp = Number.NaN;
      this.candidateCount = 0;
      this.untrustedSeconds = 0;
    }
  }

  /**
   * The beat amplitude over the lower quartile of the last minute's history
   * (NaN while it holds fewer than five): motion only ever inflates amplitudes,
   * so the quartile holds to the pulse even when motion is most of the history.
   */
  private amplitudeJump(amp: number): number {
    let n = 0;
    for (let i = 0; i < RECENT_AMP_S; i++) {
      if (this.seconds - this.recentAt[i]! < RECENT_AMP_S) this.recentScratch[n++] = this.recentAmps[i]!;
    }
    return n >= RECENT_AMP_MIN ? amp / select(this.recentScratch, n, n >> 2) : Number.NaN;
  }

  /** A window with a repeating pulse joins the history, unless it was judged to be motion. */
  private rememberAmplitude(amp: number, periodicity: number, pulseLost: boolean, reasons: readonly QualityReason[]): void {
    if (!(amp > 0) || pulseLost || periodicity < RECENT_AMP_MIN_PERIODICITY || reasons.includes('motion')) return;
    this.recentAmps[this.recentNext] = amp;
    this.recentAt[this.recentNext] = this.seconds;
    this.recentNext = (this.recentNext + 1) % RECENT_AMP_S;
  }

  /** An estimate over whatever is buffered now (for the end of a short recording). */
  estimate(): VitalsEstimate {
    return this.judge(SHORT_RECORDING_MIN_S);
  }

  private judge(minSeconds: number): VitalsEstimate {
    const t = Math.round((this.inputCount / this.rateHz) * 1000) / 1000;
    const reasons: QualityReason[] = [];
    const primary = this.ir.present ? this.ir : this.red.present ? this.red : undefined;
    const n = primary ? primary.bp.length : 0;
    if (!primary || n < minSeconds * FS) {
      if (!primary && this.inputCount > 0) reasons.push('sensor-fault');
      else reasons.push('warming-up');
      return { t, hr: null, spo2: null, pi: null, sqi: 0, reasons, r: null };
    }
    const x = this.xIr;
    primary.bp.copyLatest(n, x);
    const both = this.red.present && this.ir.present;
    if (both) this.red.bp.copyLatest(n, this.xRed);

    // The autocorrelation runs at half the internal rate (4× cheaper); beats keep the full rate.
    const nd = n >> 1;
    for (let i = 0; i < nd; i++) this.xHalf[i] = 0.5 * (x[2 * i]! + x[2 * i + 1]!);
    const half = dominantPeriod(this.xHalf, nd, FS / 2, this.acf);
    const found = half && { lag: 2 * half.lag, strength: half.strength };
    const period = found && resolveAlternans(x, n, found, this.acf, this.beats, this.scratch, FS, 2);
    let beatRate = Number.NaN;
    let regularity = 0;
    let template = 0;
    let amp = Number.NaN;
    let pulseLost = true;
    let spread = Number.NaN;
    if (period) {
      const count = detectBeats(x, n, period.lag, this.beats, this.scratch);
      const rhythm = rhythmFromBeats(this.beats, 0, this.scratch);
      if (rhythm.intervals >= 2) {
        beatRate = (60 * FS) / rhythm.interval;
        regularity = rhythm.regularity;
      }
      template = templateCorrelation(x, n, this.beats, period.lag, this.template);
      for (let b = 0; b < count; b++) this.scratch[b] = this.beats.amps[b]!;
      amp = median(this.scratch, count);
      // Mean absolute deviation of the beat amplitudes, relative: a pulse train is steady, motion is not.
      let dev = 0;
      for (let b = 0; b < count; b++) dev += Math.abs(this.beats.amps[b]! - amp);
      spread = count > 0 && amp > 0 ? dev / count / amp : Number.NaN;
      // A pulse that stopped within the window must not keep its old rate on screen.
      pulseLost = count === 0 || n - 1 - this.beats.times[count - 1]! > Math.max(2.2 * period.lag, 1.5 * FS);
      // The last 1.5 periods barely move: the pulse faded out even if an edge still passed for a beat.
      let recentLo = Number.POSITIVE_INFINITY;
      let recentHi = Number.NEGATIVE_INFINITY;
      for (let i = Math.max(0, n - Math.round(1.5 * period.lag)); i < n; i++) {
        if (x[i]! < recentLo) recentLo = x[i]!;
        if (x[i]! > recentHi) recentHi = x[i]!;
      }
      if (recentHi - recentLo < 0.3 * amp) pulseLost = true;
    }
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    let energy = 0;
    let curvature = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      energy += v * v;
      if (i > 0 && i + 1 < n) {
        const c = x[i + 1]! - 2 * v + x[i - 1]!;
        curvature += c * c;
      }
    }
    const acfRate = period ? (60 * FS) / period.lag : Number.NaN;
    const stats = primary.rawStats();
    const redStats = both ? this.red.rawStats() : undefined;
    const ratio = both ? ratioOfRatios(this.xRed, x, n) : undefined;
    // −ln(raw) peak-to-trough is ln(max/min) ≈ AC/DC for a small pulse.
    const pi = amp > 0 ? (Math.exp(amp) - 1) * 100 : Number.NaN;
    const features: WindowFeatures = {
      periodicity: period ? period.strength : 0,
      template,
      rateDisagreement: Math.abs(beatRate - acfRate) / acfRate,
      regularity,
      motionIndex: amp > 0 ? (hi - lo) / amp : Number.POSITIVE_INFINITY,
      clippedFraction: Math.max(stats.clipped, redStats ? redStats.clipped : 0),
      jumps: stats.jumps + (redStats ? redStats.jumps : 0),
      perfusionIndex: pi,
      dcFraction: stats.dc / this.fullScale,
      channelCorrelation: ratio ? ratio.correlation : Number.NaN,
      rateAmbiguous: period?.ambiguous === true,
      pulseLost,
      amplitudeRatio: amp / this.trustedAmp,
      amplitudeJump: this.amplitudeJump(amp),
      excursionRatio: (hi - lo) / this.trustedAmp,
      amplitudeSpread: spread,
      // Relative to a sinusoid at the pulse rate (whose second difference has energy ω⁴), so fast hearts are not rough.
      spikiness: amp > 0 ? primary.maxSharpness() / amp : Number.NaN,
      roughness: energy > 0 && period ? curvature / energy / ((2 * Math.PI) / period.lag) ** 4 : Number.NaN,
    };
    const sqi = assessQuality(features, reasons);
    this.onFeatures?.(t, features);
    this.learnAmplitude(sqi, amp, reasons);
    this.rememberAmplitude(amp, features.periodicity, pulseLost, reasons);
    const hrOk = sqi >= QUALITY.hrMinSqi && Number.isFinite(beatRate);
    let spo2: number | null = null;
    let r: number | null = null;
    if (hrOk && ratio && sqi >= QUALITY.spo2MinSqi && ratio.correlation >= QUALITY.spo2MinChannelCorrelation) {
      spo2 = spo2FromRatio(this.calibration, ratio.r);
      if (spo2 !== null) r = ratio.r;
    }
    return {
      t,
      hr: hrOk ? Math.round(beatRate * 10) / 10 : null,
      spo2: spo2 === null ? null : Math.round(spo2 * 10) / 10,
      pi: hrOk ? Math.round(pi * 100) / 100 : null,
      sqi: Math.round(sqi * 1000) / 1000,
      reasons,
      r,
    };
  }
}
