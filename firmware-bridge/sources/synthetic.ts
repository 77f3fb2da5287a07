/**
 * Synthetic PPG with a known truth. The IR and red channels share one pulse shape; the red
 * pulse is R times deeper (relative to its DC) than the IR one, with R taken from the signal
 * layer's own calibration curve inverted at the wanted SpO2, so a correct pipeline reads the
 * SpO2 back. Transmitted light falls as blood volume rises: counts = DC·(1 − AC/DC·pulse).
 */
import { getCalibration, ratioFromSpo2 } from '../../gateway/signal/calibrations.ts';
import type { OpticalSample, OpticalSource, SignalTruth } from './optical.ts';
import { gaussian, mulberry32 } from './random.ts';
import type { Recording } from './recordings.ts';
import { type PatientParams, type Scenario, ScenarioTimeline } from './scenario.ts';

/** Light leaking around an absent finger into the photodiode, counts at the reference settings. */
const FINGER_OFF_LEAK = 900;

/** Systolic wave plus dicrotic wave, peak normalised to 1, as a function of the beat phase 0–1. */
function beatShape(phase: number): number {
  const g = (c: number, w: number) => Math.exp(-0.5 * ((phase - c) / w) ** 2);
  return (g(0.18, 0.07) + 0.38 * g(0.45, 0.09)) / PEAK;
}
const PEAK = (() => {
  let m = 0;
  for (let i = 0; i < 1000; i++) {
    const p = i / 1000;
    m = Math.max(m, Math.exp(-0.5 * ((p - 0.18) / 0.07) ** 2) + 0.38 * Math.exp(-0.5 * ((p - 0.45) / 0.09) ** 2));
  }
  return m;
})();

export interface SyntheticOptions {
  /** Calibration whose inverse turns SpO2 into R (default: the signal layer's `max30102`). */
  calibration?: string;
}

export class SyntheticSource implements OpticalSource {
  readonly description: string;
  private readonly timeline: ScenarioTimeline;
  private readonly noise: () => number;
  private readonly cal;
  private lastT = 0;
  private beatPhase = 0;
  private respPhase = 0;
  private readonly motionPhases: number[][];

  constructor(spec: Scenario | PatientParams = {}, opts: SyntheticOptions = {}) {
    const scenario: Scenario =
      'name' in spec || 'events' in spec || 'initial' in spec ? (spec as Scenario) : { name: 'synthetic', initial: spec };
    this.timeline = new ScenarioTimeline({ ...scenario, name: scenario.name ?? 'synthetic' });
    this.description = `synthetic:${this.timeline.name}`;
    const rand = mulberry32(this.timeline.seed);
    this.noise = gaussian(rand);
    this.cal = getCalibration(opts.calibration);
    this.motionPhases = this.timeline.motionBursts.map(() => [rand(), rand(), rand(), rand()].map((x) => x * 2 * Math.PI));
  }

  truthAt(tS: number): SignalTruth {
    const p = this.timeline.paramsAt(tS);
    return { hrBpm: p.hrBpm, spo2: p.spo2, perfusionIndex: p.perfusionIndex, fingerOn: p.fingerOn, motion: this.timeline.motionAt(tS) > 0 };
  }

  at(tS: number): OpticalSample {
    const p = this.timeline.paramsAt(tS);
    const dt = Math.max(0, tS - this.lastT);
    this.lastT = Math.max(this.lastT, tS);
    // Integrate the phase so a changing heart rate bends the beat spacing smoothly.
    this.beatPhase = (this.beatPhase + (p.hrBpm / 60) * dt) % 1;
    this.respPhase = (this.respPhase + (p.respRateBpm / 60) * dt) % 1;
    const n1 = this.noise();
    const n2 = this.noise();
    if (!p.fingerOn) {
      return { red: FINGER_OFF_LEAK * (1 + 0.01 * n1), ir: FINGER_OFF_LEAK * (1 + 0.01 * n2), ambient: p.ambient };
    }
    const breath = Math.sin(2 * Math.PI * this.respPhase);
    const acIr = (p.perfusionIndex / 100) * (1 + p.respModulation * breath);
    const r = ratioFromSpo2(this.cal, p.spo2);
    const acRed = r * acIr;
    const pulse = beatShape(this.beatPhase);
    // Breathing also moves the baseline a little (venous return).
    const wander = 1 + 0.3 * (p.perfusionIndex / 100) * breath;
    let ir = p.irDc * wander * (1 - acIr * pulse) + p.irDc * p.noise * n1;
    let red = p.redDc * wander * (1 - acRed * pulse) + p.redDc * p.noise * n2;
    const burst = this.timeline.burstAt(tS);
    if (burst >= 0) {
      const motion = this.timeline.motionBursts[burst]!.amplitude;
      const ph = this.motionPhases[burst]!;
      const w =
        Math.sin(2 * Math.PI * 0.7 * tS + ph[0]!) +
        0.6 * Math.sin(2 * Math.PI * 1.9 * tS + ph[1]!) +
        0.4 * Math.sin(2 * Math.PI * 3.1 * tS + ph[2]!) +
        0.3 * Math.sin(2 * Math.PI * 0.23 * tS + ph[3]!);
      // Motion moves tissue and sensor, not blood: both channels shift, by different amounts, so R is corrupted.
      ir += p.irDc * acIr * motion * w;
      red += p.redDc * acIr * motion * 1.4 * w;
    }
    return { red, ir, ambient: p.ambient };
  }
}

export interface RenderedSignal extends Recording {
  /** Truth once per second, index = second since the start. */
  truth: { hrBpm: Float64Array; spo2: Float64Array; perfusionIndex: Float64Array; fingerOn: Uint8Array; motion: Uint8Array };
}

/**
 * A scenario or fixed parameters rendered straight to red/IR arrays at `rateHz`, without driver or
 * emulator: counts at the reference LED current and ADC range (ambient residual included), for fast
 * tests of the signal layer with a known HR and SpO2.
 */
export function renderSynthetic(
  spec: Scenario | PatientParams,
  opts: { rateHz: number; durationS: number; calibration?: string },
): RenderedSignal {
  if (!(opts.rateHz > 0) || !(opts.durationS > 0)) throw new RangeError('renderSynthetic: rateHz and durationS must be positive');
  const src = new SyntheticSource(spec, { calibration: opts.calibration });
  const n = Math.round(opts.rateHz * opts.durationS);
  const red = new Float64Array(n);
  const ir = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = src.at(i / opts.rateHz);
    red[i] = s.red + (s.ambient ?? 0);
    ir[i] = s.ir + (s.ambient ?? 0);
  }
  const secs = Math.ceil(opts.durationS);
  const truth = {
    hrBpm: new Float64Array(secs),
    spo2: new Float64Array(secs),
    perfusionIndex: new Float64Array(secs),
    fingerOn: new Uint8Array(secs),
    motion: new Uint8Array(secs),
  };
  for (let s = 0; s < secs; s++) {
    const t = src.truthAt(s);
    truth.hrBpm[s] = t.hrBpm;
    truth.spo2[s] = t.spo2;
    truth.perfusionIndex[s] = t.perfusionIndex;
    truth.fingerOn[s] = t.fingerOn ? 1 : 0;
    truth.motion[s] = t.motion ? 1 : 0;
  }
  return { rateHz: opts.rateHz, red, ir, meta: { format: 'synthetic', source: src.description, pulseChannel: 'ir' }, truth };
}
