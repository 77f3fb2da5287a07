/**
 * Gap detection from the per-gateway, per-kind sequence numbers in the
 * envelope (`seq`, +1 per message created on the gateway). Messages may
 * arrive out of order when the gateway's outbox resends, so a gap is a set of
 * missing ranges that late arrivals fill in, not an error.
 */
export interface SeqState {
  highest: number;
  /** Missing ranges, inclusive, oldest first. */
  gaps: Array<[number, number]>;
}

export interface SeqObservation {
  state: SeqState;
  /** A new range of missing messages, when this seq jumped ahead. */
  newGap: [number, number] | null;
  /** This seq arrived late and filled (part of) a known gap. */
  filled: boolean;
  /** This seq went backwards outside any known gap: the gateway's counter restarted. */
  reset: boolean;
}

/** Most missing ranges remembered per gateway and kind; the oldest are forgotten first. */
export const MAX_OPEN_GAPS = 100;

export function observeSeq(previous: SeqState | null, seq: number, maxGaps = MAX_OPEN_GAPS): SeqObservation {
  if (!previous) return { state: { highest: seq, gaps: [] }, newGap: null, filled: false, reset: false };
  const gaps = previous.gaps.map((g) => [g[0], g[1]] as [number, number]);
  if (seq > previous.highest) {
    let newGap: [number, number] | null = null;
    if (seq > previous.highest + 1) {
      newGap = [previous.highest + 1, seq - 1];
      gaps.push(newGap);
      while (gaps.length > maxGaps) gaps.shift();
    }
    return { state: { highest: seq, gaps }, newGap, filled: false, reset: false };
  }
  const index = gaps.findIndex(([from, to]) => seq >= from && seq <= to);
  if (index >= 0) {
    const [from, to] = gaps[index] as [number, number];
    const pieces: Array<[number, number]> = [];
    if (from < seq) pieces.push([from, seq - 1]);
    if (seq < to) pieces.push([seq + 1, to]);
    gaps.splice(index, 1, ...pieces);
    return { state: { highest: previous.highest, gaps }, newGap: null, filled: true, reset: false };
  }
  if (seq === previous.highest) return { state: previous, newGap: null, filled: false, reset: false };
  return { state: { highest: seq, gaps }, newGap: null, filled: false, reset: true };
}

export function missingCount(gaps: ReadonlyArray<readonly [number, number]>): number {
  return gaps.reduce((sum, [from, to]) => sum + (to - from + 1), 0);
}
