/**
 * The alarm layer's public surface (docs/ALARMS.md). The gateway feeds the
 * engine, puts its events in the outbox, shows `annunciation()` through the
 * annunciator and hands config-downlink limits to `setLimits`.
 */
export { Annunciator, type AnnunciatorOptions, AUDIO_PATTERNS, type Pattern, VISUAL_PATTERNS } from './annunciator.ts';
export { AlarmButton, type AlarmButtonOptions, type ButtonAction, LONG_PRESS_MS } from './button.ts';
export {
  type ActiveAlarm,
  AlarmEngine,
  type AlarmEngineOptions,
  type Annunciation,
  type EngineCounters,
  MAX_PAUSE_MS,
  type Outcome,
  PIPELINE_LATENCY_MS,
  SIGNAL_SETTLE_MS,
} from './engine.ts';
export { loadLimitsFile } from './limits-file.ts';
export { type ReplayOptions, type ReplayResult, replayRecording } from './replay.ts';
export { RULES, type RuleId } from './rules.ts';
export { AlarmSnapshot, checkSnapshot, SavedAlarm } from './snapshot.ts';
export type { SensorState, TechnicalObservation, VitalsEstimate } from './vitals.ts';
