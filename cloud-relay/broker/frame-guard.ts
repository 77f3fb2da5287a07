/**
 * Watches the MQTT fixed headers going past on a connection and reports a
 * packet whose Remaining Length exceeds the limit as soon as its header is
 * read, before the parser buffers the body. mqtt-packet has no size limit of
 * its own and would buffer up to 256 MB per packet.
 *
 * Fixed header (MQTT 3.1.1 §2.2): one byte of type and flags, then the
 * Remaining Length as 1 to 4 bytes of base-128 with a continuation bit (§2.2.3).
 */
export type FrameVerdict = { ok: true } | { ok: false; reason: 'packet-too-large' | 'bad-packet'; detail: string };

export class FrameGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  private failed: FrameVerdict | null = null;

  constructor(private readonly maxPacketBytes: number) {}

  feed(chunk: Uint8Array): FrameVerdict {
    if (this.failed) return this.failed;
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        // [MQTT-2.2.3] at most four bytes encode the Remaining Length
        if (this.lengthBytes === 4) return this.fail({ ok: false, reason: 'bad-packet', detail: 'Remaining Length longer than 4 bytes' });
        continue;
      }
      // Fixed header (at most 5 bytes) plus body.
      const packetBytes = 1 + this.lengthBytes + this.length;
      if (packetBytes > this.maxPacketBytes) {
        return this.fail({
          ok: false,
          reason: 'packet-too-large',
          detail: `packet of ${packetBytes} bytes exceeds ${this.maxPacketBytes}`,
        });
      }
      this.remaining = this.length;
      this.state = this.remaining === 0 ? 'type' : 'body';
    }
    return { ok: true };
  }

  private fail(verdict: FrameVerdict): FrameVerdict {
    this.failed = verdict;
    return verdict;
  }
}
