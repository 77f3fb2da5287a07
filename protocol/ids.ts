import { randomBytes } from 'node:crypto';

/** 22-character url-safe random id (128 bits), valid as msgId and alarmId. */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}
