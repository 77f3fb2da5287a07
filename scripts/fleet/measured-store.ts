/**
 * A HistoryStore decorator for benchmarks: passes everything through and, for
 * each reading the real store acknowledged, records how long after its
 * timestamp that was. The fleet simulator stamps a reading with its publish
 * instant, so on one machine (one clock) this is publish → stored.
 */
import type { HistoryStore, ReadingQuery, StoredAlarmEvent, StoredReading } from '../../cloud-relay/store/history-store.ts';
import { LatencyHistogram } from './histogram.ts';

export class MeasuredStore implements HistoryStore {
  stored = 0;
  readonly latency = new LatencyHistogram();

  constructor(private readonly inner: HistoryStore) {}

  async writeReadings(readings: readonly StoredReading[]): Promise<void> {
    await this.inner.writeReadings(readings);
    const now = Date.now();
    for (const r of readings) this.latency.record(now - r.t);
    this.stored += readings.length;
  }
  writeAlarmEvents(events: readonly StoredAlarmEvent[]): Promise<void> {
    return this.inner.writeAlarmEvents(events);
  }
  queryReadings(query: ReadingQuery): Promise<StoredReading[]> {
    return this.inner.queryReadings(query);
  }
  queryAlarmEvents(query: ReadingQuery): Promise<StoredAlarmEvent[]> {
    return this.inner.queryAlarmEvents(query);
  }
  ping(): Promise<boolean> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
