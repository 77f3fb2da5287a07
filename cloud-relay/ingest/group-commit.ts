/**
 * Group commit: uplink messages that arrive while the spool is busy are
 * written together in one transaction, so many gateways share one fsync
 * instead of paying one each. At most `maxInFlight` groups are being committed
 * at a time; the rest gather until one finishes. Every submitter gets its
 * answer only after its group's commit, so the broker still sends no PUBACK
 * before the message is durable.
 */
export class GroupCommit<T, R> {
  private pending: Array<{ item: T; done: (error: Error | null, result?: R) => void }> = [];
  private scheduled = false;
  private inFlight = 0;

  /** `commit` writes all items in one transaction, resolving one result per item, or rejects for all. */
  constructor(
    private readonly commit: (items: T[]) => Promise<R[]>,
    private readonly maxGroup = 2000,
    private readonly maxInFlight = 2,
  ) {}

  submit(item: T, done: (error: Error | null, result?: R) => void): void {
    this.pending.push({ item, done });
    if (this.pending.length >= this.maxGroup) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate runs after this turn's I/O callbacks: everything read from sockets in this turn joins the group.
      setImmediate(() => {
        this.scheduled = false;
        if (this.inFlight < this.maxInFlight) this.flush();
      });
    }
  }

  /** Starts committing what is pending now (even past maxInFlight: a full group does not wait). */
  flush(): void {
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return;
    this.inFlight++;
    const finished = () => {
      this.inFlight--;
      if (this.pending.length > 0 && !this.scheduled && this.inFlight < this.maxInFlight) this.flush();
    };
    this.commit(group.map((g) => g.item)).then(
      (results) => {
        finished();
        group.forEach((g, i) => {
          g.done(null, results[i]);
        });
      },
      (error: Error) => {
        finished();
        for (const g of group) g.done(error);
      },
    );
  }

  get waiting(): number {
    return this.pending.length;
  }
}
