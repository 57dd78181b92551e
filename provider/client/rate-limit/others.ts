import { header, type ResponseHeaders } from "./server-budget";
import { MINUTE_MS } from "./windows";

/** What other processes spent between two answers, timed at the later one's arrival (clock ms). */
interface Sample {
  at: number;
  count: number;
}

/**
 * An estimate of the requests other processes sent on the token in the last
 * minute, from how `ratelimit-remaining` falls between answers.
 *
 * The header is the hour's quota left, counted by everyone on the token. The
 * server counts requests as they arrive, and ours arrive about in the order
 * they start: so between two answers, the fall in remaining minus our
 * requests started in between (less those refused with 429, which the server
 * does not count) is what the others spent. An answer whose request started
 * before the last one used reports an older state and is skipped, so answers
 * arriving out of order never add a fall twice. Where arrival order differs
 * from start order, a sample is off by at most the requests in flight and the
 * next one makes up for it: the falls telescope, so errors do not pile up.
 *
 * A fall counts in full for a minute from the answer that showed it, though
 * the others sent those requests somewhat earlier: the estimate errs on the
 * side of waiting. Otherwise it is a lower bound: requests leaving the
 * server's hour window raise the remaining again, which reads as others
 * spending less; in the first hour of a run none leave.
 */
export class OtherProcessesSpending {
  /** The last answer used: its request's place in our start order, the remaining it reported, and when it came (clock ms). */
  private reference: { startIndex: number; remaining: number; at: number } | undefined;
  /** Start indexes, later than the reference's, of our requests refused with 429. */
  private refusedSinceReference: number[] = [];
  /** Oldest first; only those of the last minute are kept. */
  private samples: Sample[] = [];
  /** When the first answer came (clock ms): before that, nothing was seen. */
  private firstAnswerAt: number | undefined;

  /** Our request `startIndex` drew a 429: the server did not count it. */
  refused(startIndex: number): void {
    if (!this.reference || startIndex > this.reference.startIndex) this.refusedSinceReference.push(startIndex);
  }

  /** Our request `startIndex` was answered (not with 429) at `now`. */
  answered(startIndex: number, headers: ResponseHeaders | undefined, now: number): void {
    const remaining = Number(header(headers, "ratelimit-remaining"));
    // 0 says the minute is full, not how much of the hour is spent; the server budget handles it.
    if (!Number.isFinite(remaining) || remaining <= 0) return;
    const reference = this.reference;
    if (reference && startIndex <= reference.startIndex) return;
    if (reference) {
      const refused = this.refusedSinceReference.filter((index) => index <= startIndex).length;
      const ours = startIndex - reference.startIndex - refused;
      const theirs = reference.remaining - remaining - ours;
      // After a silence of more than a minute, only the share of the fall that the last minute
      // holds counts, as if the others had spent evenly over the silence.
      const count = Math.round(theirs * Math.min(1, MINUTE_MS / (now - reference.at)));
      if (count !== 0) this.samples.push({ at: now, count });
    }
    this.refusedSinceReference = this.refusedSinceReference.filter((index) => index > startIndex);
    this.reference = { startIndex, remaining, at: now };
    this.firstAnswerAt ??= now;
    this.forgetOlderThanAMinute(now);
  }

  /**
   * Others' requests in the minute before `now`, never below 0 (a sample is
   * negative when more left the hour window than arrived) nor above `limit`.
   */
  lastMinute(now: number, limit: number): number {
    this.forgetOlderThanAMinute(now);
    const sum = this.samples.reduce((total, sample) => total + sample.count, 0);
    return Math.min(limit, Math.max(0, sum));
  }

  /**
   * Others' requests in flight, which the server counts before a request of
   * ours starting now but no answer of ours shows yet: by Little's law, their
   * rate times the round trip (`roundTripMs`), the rate being the last
   * minute's estimate over the part of the minute seen so far. Never more than
   * that estimate.
   */
  inFlight(now: number, roundTripMs: number, limit: number): number {
    const spent = this.lastMinute(now, limit);
    if (spent === 0 || this.firstAnswerAt === undefined) return 0;
    const seenMs = Math.min(MINUTE_MS, Math.max(now - this.firstAnswerAt, roundTripMs, 1));
    return Math.min(spent, Math.ceil((spent * roundTripMs) / seenMs));
  }

  /** Clock ms from `now` until the oldest sample leaves the minute, and the estimate may change; Infinity without samples. */
  untilNextChange(now: number): number {
    this.forgetOlderThanAMinute(now);
    const oldest = this.samples[0];
    return oldest ? oldest.at + MINUTE_MS - now : Infinity;
  }

  private forgetOlderThanAMinute(now: number): void {
    const kept = this.samples.findIndex((sample) => sample.at > now - MINUTE_MS);
    if (kept !== 0) this.samples = kept < 0 ? [] : this.samples.slice(kept);
  }
}
