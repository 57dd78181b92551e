/** Turns the simulator's request log into the benchmark's figures. */
import type { RequestLogEntry } from "../provider/simulator";

/** GETs that only ask whether an action finished: the account's actions, or one image action. */
const POLL_ROUTES = new Set(["GET /v2/actions", "GET /v2/actions/:id", "GET /v2/images/:id/actions/:action_id"]);

export interface RequestFigures {
  /** Answered requests (a 429 is not counted here: DigitalOcean does not count it either). */
  requests: number;
  reads: number;
  writes: number;
  polls: number;
  /** 429 answers received. */
  received429: number;
  /** Answered requests by route template. */
  byRoute: Record<string, number>;
  /** Clock ms from the first request to the last, and to the last write. */
  spanMs: number;
  lastWriteMs: number;
}

export function classify(log: RequestLogEntry[]): RequestFigures {
  const f: RequestFigures = { requests: 0, reads: 0, writes: 0, polls: 0, received429: 0, byRoute: {}, spanMs: 0, lastWriteMs: 0 };
  const first = log[0]?.clockMs ?? 0;
  for (const entry of log) {
    f.spanMs = Math.max(f.spanMs, entry.clockMs - first);
    if (entry.outcome === "rate-limited" || entry.outcome === "fault:too-many-requests") {
      f.received429 += 1;
      continue;
    }
    f.requests += 1;
    const route = entry.route ?? `${entry.method} (unmatched)`;
    f.byRoute[route] = (f.byRoute[route] ?? 0) + 1;
    if (entry.method !== "GET") {
      f.writes += 1;
      f.lastWriteMs = entry.clockMs - first;
    } else if (POLL_ROUTES.has(route)) f.polls += 1;
    else f.reads += 1;
  }
  return f;
}

/** Answered requests in each clock minute since the first request: shows where the budget went unused. */
export function perMinute(log: RequestLogEntry[]): number[] {
  const first = log[0]?.clockMs ?? 0;
  const minutes: number[] = [];
  for (const entry of log) {
    // The API's own answers, successes and error answers (a 404, a 422) alike.
    if (entry.outcome !== "ok" && !entry.outcome.startsWith("error:")) continue;
    const m = Math.floor((entry.clockMs - first) / 60_000);
    while (minutes.length <= m) minutes.push(0);
    minutes[m] += 1;
  }
  return minutes;
}
