/**
 * The alarm conditions currently active per patient, so a dashboard that
 * connects (or reconnects) in the middle of an alarm sees it at once instead
 * of waiting for the alarm's next event. Events may arrive out of order when a
 * gateway's outbox replays a backlog, so an alarm's state is its newest event
 * by gateway time, and a late older event does not bring a cleared alarm back.
 */
import type { AlarmEvent } from '../../protocol/schemas.ts';

/** Alarm ids remembered per patient, cleared ones included; the oldest cleared are forgotten first. */
export const MAX_ALARMS_PER_PATIENT = 200;

export class ActiveAlarms {
  private readonly byPatient = new Map<string, Map<string, AlarmEvent>>();

  /** Records an event; returns false when it is older than what is known for its alarm. */
  record(patientId: string, event: AlarmEvent): boolean {
    let alarms = this.byPatient.get(patientId);
    if (!alarms) {
      alarms = new Map();
      this.byPatient.set(patientId, alarms);
    }
    const known = alarms.get(event.alarmId);
    if (known && known.t > event.t) return false;
    alarms.delete(event.alarmId);
    alarms.set(event.alarmId, event);
    if (alarms.size > MAX_ALARMS_PER_PATIENT) {
      for (const [alarmId, latest] of alarms) {
        if (alarms.size <= MAX_ALARMS_PER_PATIENT) break;
        if (latest.event === 'cleared') alarms.delete(alarmId);
      }
    }
    return true;
  }

  /** The newest event of every alarm of this patient that is not cleared, oldest first. */
  active(patientId: string): AlarmEvent[] {
    const alarms = this.byPatient.get(patientId);
    if (!alarms) return [];
    return [...alarms.values()].filter((e) => e.event !== 'cleared').sort((a, b) => a.t - b.t);
  }
}
