/**
 * Group commit: uplink messages that arrive in the same event-loop turn are
 * written to the spool in one transaction, so many gateways share one fsync
 * instead of paying one each. Every submitter gets its answer only after the
 * commit, so the broker still sends no PUBACK before the message is durable.
 */
export class GroupCommit<T, R> {
  private pending: Array<{ item: T; done: (error: Error | null, result?: R) => void }> = [];
  private scheduled = false;

  /** `commit` writes all items in one transaction, returning one result per item, or throws for all. */
  constructor(
    private readonly commit: (items: T[]) => R[],
    private readonly maxGroup = 1000,
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
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return;
    let results: R[];
    try {
      results = this.commit(group.map((g) => g.item));
    } catch (error) {
      for (const g of group) g.done(error as Error);
      return;
    }
    group.forEach((g, i) => {
      g.done(null, results[i]);
    });
  }

  get waiting(): number {
    return this.pending.length;
  }
}
