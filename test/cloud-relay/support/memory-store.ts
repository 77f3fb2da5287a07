import {
  type HistoryStore,
  HistoryStoreError,
  type ReadingQuery,
  type StoredAlarmEvent,
  type StoredReading,
} from '../../../cloud-relay/store/history-store.ts';

/** In-memory HistoryStore for relay tests; `failing` makes every call throw, as an unreachable InfluxDB would. */
export class MemoryHistoryStore implements HistoryStore {
  readonly readings = new Map<string, StoredReading>();
  readonly events: StoredAlarmEvent[] = [];
  failing = false;
  writeCalls = 0;

  async writeReadings(readings: readonly StoredReading[]): Promise<void> {
    this.writeCalls++;
    if (this.failing) throw new HistoryStoreError('store unavailable');
    for (const r of readings) this.readings.set(`${r.gatewayId}|${r.t}`, r);
  }

  async writeAlarmEvents(events: readonly StoredAlarmEvent[]): Promise<void> {
    this.writeCalls++;
    if (this.failing) throw new HistoryStoreError('store unavailable');
    this.events.push(...events);
  }

  async queryReadings(q: ReadingQuery): Promise<StoredReading[]> {
    if (this.failing) throw new HistoryStoreError('store unavailable');
    return [...this.readings.values()]
      .filter((r) => r.patientId === q.patientId && r.t >= q.fromMs && r.t < q.toMs)
      .sort((a, b) => a.t - b.t);
  }

  async queryAlarmEvents(q: ReadingQuery): Promise<StoredAlarmEvent[]> {
    if (this.failing) throw new HistoryStoreError('store unavailable');
    return this.events.filter((e) => e.patientId === q.patientId && e.t >= q.fromMs && e.t < q.toMs);
  }

  async ping(): Promise<boolean> {
    return !this.failing;
  }

  async close(): Promise<void> {}
}
