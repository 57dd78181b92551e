import type { Clock } from "../clock";

/** How a `/v2` request ended: answered normally, rate limited, or hit by an injected fault. */
export type RequestOutcome =
  | "ok"
  | "rate-limited"
  | "fault:too-many-requests"
  | "fault:server-error"
  | "fault:drop"
  | "fault:lost-response";

/**
 * One `/v2` request as the simulator saw it. Holds no header values, so the
 * token never appears in the log.
 */
export interface RequestLogEntry {
  /** 1, 2, 3... in arrival order. */
  seq: number;
  method: string;
  path: string;
  /** The route template, e.g. `GET /v2/images/:id`; null for an unknown route. */
  route: string | null;
  query: Record<string, string>;
  /** The status sent, or that would have been sent for a lost response; null for a dropped connection. */
  status: number | null;
  outcome: RequestOutcome;
  /** Clock time the request arrived, ISO 8601 with milliseconds, and as epoch ms. */
  time: string;
  clockMs: number;
}

/** Request counts, as `GET /_sim/requests/counts` returns them. */
export interface RequestCounts {
  total: number;
  /** By route template; unknown routes count under `"(unmatched)"`. */
  byRoute: Record<string, number>;
  byMethod: Record<string, number>;
  byOutcome: Record<string, number>;
}

/** The simulator's in-memory request log. */
export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  constructor(private readonly clock: Clock) {}

  /** Starts an entry for a request that just arrived; the caller fills in status and outcome. */
  begin(method: string, url: URL, route: string | null): RequestLogEntry {
    const clockMs = this.clock.now();
    const entry: RequestLogEntry = {
      seq: ++this.seq,
      method,
      path: url.pathname,
      route,
      query: Object.fromEntries(url.searchParams),
      status: null,
      outcome: "ok",
      time: new Date(clockMs).toISOString(),
      clockMs,
    };
    this.entries.push(entry);
    return entry;
  }

  list(): RequestLogEntry[] {
    return this.entries.map((e) => ({ ...e, query: { ...e.query } }));
  }

  counts(): RequestCounts {
    const counts: RequestCounts = { total: this.entries.length, byRoute: {}, byMethod: {}, byOutcome: {} };
    const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
    for (const e of this.entries) {
      bump(counts.byRoute, e.route ?? "(unmatched)");
      bump(counts.byMethod, e.method);
      bump(counts.byOutcome, e.outcome);
    }
    return counts;
  }

  /** Empties the log; sequence numbers keep growing so entries stay distinguishable. */
  reset(): void {
    this.entries = [];
  }
}

