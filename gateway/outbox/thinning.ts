/**
 * Thinning old vitals to per-minute aggregates, the second step of the
 * outbox's eviction policy (docs/RELIABILITY.md). Pure: readings in, readings
 * out.
 *
 * A value is averaged only over the readings that had one, and only when at
 * least half of the minute had one; otherwise it stays null, so thinning never
 * turns a mostly-bad minute into a confident number. Quality reasons are the
 * union of the minute's reasons, so the why survives.
 */
import type { QualityReason, Reading } from '../../protocol/schemas.ts';

export const THIN_BUCKET_MS = 60_000;

function meanOrNull(values: (number | null)[], total: number): number | null {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0 || present.length * 2 < total) return null;
  return Math.round((present.reduce((a, b) => a + b, 0) / present.length) * 10) / 10;
}

/** One reading standing for all `readings` (non-empty, one minute of one boot). */
export function aggregateMinute(readings: readonly Reading[]): Reading {
  const first = readings[0];
  if (!first) throw new Error('aggregateMinute needs at least one reading');
  if (readings.length === 1) return first;
  const n = readings.length;
  const reasons = new Set<QualityReason>();
  for (const r of readings) for (const reason of r.reasons) reasons.add(reason);
  const sqi = readings.reduce((a, r) => a + r.sqi, 0) / n;
  return {
    t: first.t,
    mono: first.mono,
    hr: meanOrNull(
      readings.map((r) => r.hr),
      n,
    ),
    spo2: meanOrNull(
      readings.map((r) => r.spo2),
      n,
    ),
    pi: meanOrNull(
      readings.map((r) => r.pi),
      n,
    ),
    sqi: Math.round(sqi * 1000) / 1000,
    reasons: [...reasons],
  };
}

/** Groups readings by wall-clock minute, keeping their order, and aggregates each group. */
export function thinToMinutes(readings: readonly Reading[]): Reading[] {
  const out: Reading[] = [];
  let bucket: Reading[] = [];
  let bucketKey = Number.NaN;
  for (const reading of readings) {
    const key = Math.floor(reading.t / THIN_BUCKET_MS);
    if (key !== bucketKey && bucket.length > 0) {
      out.push(aggregateMinute(bucket));
      bucket = [];
    }
    bucketKey = key;
    bucket.push(reading);
  }
  if (bucket.length > 0) out.push(aggregateMinute(bucket));
  return out;
}
