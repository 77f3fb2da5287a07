/**
 * The active alarms as a small JSON document, so a gateway that restarts
 * (power cut, watchdog) carries on with the same alarms: a latched alarm is
 * not forgotten, and the relay later sees the `cleared` of the very alarm id
 * it saw raised. The file is read back from disk, so it is validated like any
 * outside input.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { AlarmKind, AlarmPriority } from '../../protocol/schemas.ts';
import { RULES } from './rules.ts';

export const SavedAlarm = T.Object(
  {
    alarmId: T.String({ pattern: '^[0-9A-Za-z_-]{8,64}$' }),
    rule: T.Union(RULES.map((r) => T.Literal(r.id))),
    kind: AlarmKind,
    priority: AlarmPriority,
    acknowledged: T.Boolean(),
    escalated: T.Boolean(),
    conditionPresent: T.Boolean(),
    value: T.Union([T.Number(), T.Null()]),
    limit: T.Optional(T.Number()),
    unit: T.Optional(T.String({ maxLength: 16 })),
    message: T.String({ maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type SavedAlarm = Static<typeof SavedAlarm>;

export const AlarmSnapshot = T.Object(
  {
    v: T.Literal(1),
    alarms: T.Array(SavedAlarm, { maxItems: RULES.length, description: 'at most one alarm per rule' }),
  },
  { additionalProperties: false },
);
export type AlarmSnapshot = Static<typeof AlarmSnapshot>;

const check = new Ajv({ strict: true, strictTypes: false }).compile(AlarmSnapshot);

export function checkSnapshot(value: unknown): { ok: true; snapshot: AlarmSnapshot } | { ok: false; reason: string } {
  if (check(value)) return { ok: true, snapshot: value as AlarmSnapshot };
  const e = check.errors?.[0];
  return { ok: false, reason: `alarm snapshot ${e ? `${e.instancePath || '(root)'}: ${e.message ?? 'invalid'}` : 'invalid'}` };
}
