/**
 * GPIO seam: the subset of onoff the gateway uses. On a Pi, onoff fills it
 * (see gpio-onoff.ts); elsewhere an in-memory implementation records what was
 * written and lets tests drive edges on inputs.
 */
export type BinaryValue = 0 | 1;

/** An output pin such as the alarm LED or the buzzer. */
export interface GpioOutput {
  write(value: BinaryValue): Promise<void>;
  /** Releases the pin; writes after this are ignored. */
  close(): Promise<void>;
}

/** An input pin watched for edges, such as the MAX30102 INT line (active low). */
export interface GpioInput {
  read(): Promise<BinaryValue>;
  /** Calls `onEdge` on each configured edge; returns a function that stops watching. */
  watch(onEdge: (value: BinaryValue) => void): () => void;
  close(): Promise<void>;
}
