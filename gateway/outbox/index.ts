/**
 * Store-and-forward outbox: the gateway's only path to the relay.
 *
 * API:
 *   Outbox.open({ path, gatewayId, clock, budget?, log?, maxPageCount? }) → Outbox
 *   outbox.enqueueVitals(readings: Reading[]): void       committed (fsynced) when it returns
 *   outbox.enqueueAlarms(events: AlarmEvent[]): void      committed; sent first, evicted last
 *   outbox.enqueueConfigAck({ configVersion, accepted, reason? }): void
 *   outbox.envelope('status'): Envelope                   msgId, persisted seq and clock for a status message
 *   outbox.stats(): OutboxStats                           rows, bytes, evicted(+By), fill 0..1, nearlyFull, durable,
 *                                                         diskFull, recoveredFromCorruption — feed the technical alarm
 *   outbox.take(max) / ack(id) / release(ids?)             used by the uplink only
 *   outbox.close(): void
 * Enqueue throws OutboxInputError for a message the contract refuses (counted
 * in stats().rejected) and OutboxStorageError when even eviction cannot make
 * room (stats().diskFull).
 */
export {
  CLASS,
  type ConfigAck,
  DEFAULT_BUDGET,
  type Envelope,
  type EvictionCounts,
  Outbox,
  type OutboxBudget,
  type OutboxEntry,
  OutboxInputError,
  type OutboxKind,
  type OutboxLog,
  type OutboxOptions,
  type OutboxStats,
  OutboxStorageError,
} from './outbox.ts';
export { aggregateMinute, thinToMinutes } from './thinning.ts';
