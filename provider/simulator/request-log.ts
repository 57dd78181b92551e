import type { Clock } from "../clock";

/**
 * How a `/v2` request ended: a 2xx answer (`ok`), an error answer of the API
 * itself by status (`error:401`, `error:404`, `error:422`...), rate limited,
 * hit by an injected fault, or not answered yet (`pending`).
 */
export type RequestOutcome =
  | "ok"
  | `error:${number}`
  | "pending"
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
  /** By RequestOutcome: `ok` counts 2xx answers only, e.g. `{ ok: 9, "error:404": 1, "rate-limited": 2 }`. */
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
      // Settled from the status when read (see outcomeOf); the server marks rate limits and faults itself.
      outcome: "ok",
      time: new Date(clockMs).toISOString(),
      clockMs,
    };
    this.entries.push(entry);
    return entry;
  }

  list(): RequestLogEntry[] {
    return this.entries.map((e) => ({ ...e, query: { ...e.query }, outcome: outcomeOf(e) }));
  }

  counts(): RequestCounts {
    const counts: RequestCounts = { total: this.entries.length, byRoute: {}, byMethod: {}, byOutcome: {} };
    const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
    for (const e of this.entries) {
      bump(counts.byRoute, e.route ?? "(unmatched)");
      bump(counts.byMethod, e.method);
      bump(counts.byOutcome, outcomeOf(e));
    }
    return counts;
  }

  /** Empties the log; sequence numbers keep growing so entries stay distinguishable. */
  reset(): void {
    this.entries = [];
  }
}


/**
 * The outcome of an entry the server did not mark as rate limited or faulted:
 * only a 2xx answer is `ok`; a 401, 404, 422 or a handler's 500 is that error.
 */
function outcomeOf(e: RequestLogEntry): RequestOutcome {
  if (e.outcome !== "ok") return e.outcome;
  if (e.status === null) return "pending";
  return e.status >= 200 && e.status < 300 ? "ok" : `error:${e.status}`;
}
