import { seededRandom, type Random } from "./random";

/**
 * Faults the simulator injects into `/v2` requests. Shares are probabilities
 * from 0 to 1, drawn per request from a PRNG seeded with `seed`, so a run is
 * reproducible. Durations are in milliseconds of the simulator's Clock.
 */
export interface FaultConfig {
  /** PRNG seed; the same seed and request sequence give the same faults. Default 1. */
  seed?: number;
  /** Share answered 500, 502 or 503 without performing the operation. */
  serverErrorRate?: number;
  /** Share whose connection is destroyed before any response; the operation is not performed. */
  dropRate?: number;
  /**
   * Share performed (action created, image updated or deleted...) whose response
   * is then lost: the socket is destroyed, so the client sees a reset.
   */
  lostResponseRate?: number;
  /** Share answered 429 "API rate limit exceeded." (scattered; `storm` is a sustained one); not performed, no quota used. */
  tooManyRequestsRate?: number;
  /**
   * A sustained storm: of the requests on `routes` since the config was set, the
   * `count` after the first `after` (default 0) are all answered 429 like
   * `tooManyRequestsRate`'s, then requests pass again. Counted rather than timed,
   * so the window falls on the same requests in every run.
   */
  storm?: { after?: number; count: number };
  /** `retry-after` seconds sent with storm 429s. Default 1. */
  stormRetryAfterSeconds?: number;
  /** Clock ms added before answering: a fixed delay or a uniform range. */
  latencyMs?: number | { min: number; max: number };
  /** Share of new convert/transfer actions that end `errored`, leaving the image unchanged. */
  erroredActionRate?: number;
  /**
   * Route templates the request faults apply to, e.g. `"POST /v2/images/:id/actions"`.
   * Absent: every `/v2` route. (`erroredActionRate` is not restricted by it.)
   */
  routes?: string[];
}

/** What the fault draw decided for one request, in the order the server applies them. */
export interface FaultDecision {
  latencyMs: number;
  /** Answer instead of performing: a storm 429, a 5xx, or a dropped connection. */
  preempt?: { kind: "too-many-requests"; retryAfterSeconds: number } | { kind: "server-error"; status: 500 | 502 | 503 } | { kind: "drop" };
  /** Perform the operation, then destroy the socket instead of answering. */
  loseResponse: boolean;
}

const RATE_KEYS = ["serverErrorRate", "dropRate", "lostResponseRate", "tooManyRequestsRate", "erroredActionRate"] as const;

/**
 * Throws a RangeError naming the field when `config` is not a valid FaultConfig.
 * `knownRoutes` are the templates the server routes (given by its creator, as
 * the routes themselves hold the state that holds these faults).
 */
export function validateFaultConfig(config: unknown, knownRoutes: readonly string[]): FaultConfig {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new RangeError("fault config must be an object");
  }
  const c = config as Record<string, unknown>;
  for (const key of RATE_KEYS) {
    const v = c[key];
    if (v !== undefined && !(typeof v === "number" && v >= 0 && v <= 1)) {
      throw new RangeError(`${key} must be a number from 0 to 1, got ${JSON.stringify(v)}`);
    }
  }
  if (c.seed !== undefined && !Number.isInteger(c.seed)) {
    throw new RangeError(`seed must be an integer, got ${JSON.stringify(c.seed)}`);
  }
  const retry = c.stormRetryAfterSeconds;
  if (retry !== undefined && !(Number.isInteger(retry) && (retry as number) >= 1)) {
    throw new RangeError(`stormRetryAfterSeconds must be an integer >= 1, got ${JSON.stringify(retry)}`);
  }
  const storm = c.storm as { after?: unknown; count?: unknown } | null | undefined;
  const whole = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min;
  if (storm !== undefined && (typeof storm !== "object" || storm === null || !whole(storm.count, 1) || !(storm.after === undefined || whole(storm.after, 0)))) {
    throw new RangeError(`storm must be {count, after?} with count an integer >= 1 and after an integer >= 0, got ${JSON.stringify(storm)}`);
  }
  const lat = c.latencyMs;
  const okMs = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
  if (lat !== undefined && !okMs(lat)) {
    const range = lat as { min?: unknown; max?: unknown } | null;
    if (typeof range !== "object" || range === null || !okMs(range.min) || !okMs(range.max) || (range.min as number) > (range.max as number)) {
      throw new RangeError(`latencyMs must be a number >= 0 or {min, max} with 0 <= min <= max, got ${JSON.stringify(lat)}`);
    }
  }
  if (c.routes !== undefined && !(Array.isArray(c.routes) && c.routes.every((r) => typeof r === "string"))) {
    throw new RangeError(`routes must be an array of route templates like "POST /v2/images/:id/actions"`);
  }
  // A misspelt template would silently disable the faults a test relies on.
  const unknown = ((c.routes as string[] | undefined) ?? []).filter((r) => !knownRoutes.includes(r));
  if (unknown.length > 0) {
    throw new RangeError(`routes has unknown templates ${JSON.stringify(unknown)}; known: ${knownRoutes.join(", ")}`);
  }
  return c as FaultConfig;
}

/** Holds the current fault config and its PRNG; replacing the config reseeds it. */
export class Faults {
  private config: FaultConfig = {};
  private random: Random = seededRandom(1);
  private actionRandom: Random = seededRandom(1);
  /** Requests on `routes` since the config was set: where `storm` falls. */
  private matched = 0;

  constructor(
    /** The route templates `routes` may name. */
    readonly knownRoutes: readonly string[],
    config: FaultConfig = {},
  ) {
    this.set(config);
  }

  /** Replaces the whole config (validated) and restarts the PRNG from its seed. */
  set(config: FaultConfig): void {
    this.config = { ...validateFaultConfig(config, this.knownRoutes) };
    const seed = config.seed ?? 1;
    this.random = seededRandom(seed);
    // A separate stream, so whether an action errors does not shift request faults.
    this.actionRandom = seededRandom(seed ^ 0x5eed);
    this.matched = 0;
  }

  get(): FaultConfig {
    return { ...this.config };
  }

  /**
   * Decides the faults for one request. Always draws the same number of values,
   * so a config change on one route does not reshuffle the others.
   */
  decide(route: string | null): FaultDecision {
    const c = this.config;
    const [rLatency, rStorm, rServer, rStatus, rDrop, rLost] = Array.from({ length: 6 }, () => this.random());
    const applies = c.routes === undefined || (route !== null && c.routes.includes(route));
    if (!applies) return { latencyMs: 0, loseResponse: false };
    const index = this.matched++;
    const stormStart = c.storm?.after ?? 0;
    const inStorm = c.storm !== undefined && index >= stormStart && index < stormStart + c.storm.count;

    const lat = c.latencyMs ?? 0;
    const latencyMs = typeof lat === "number" ? lat : lat.min + rLatency * (lat.max - lat.min);
    let preempt: FaultDecision["preempt"];
    if (inStorm || rStorm < (c.tooManyRequestsRate ?? 0)) {
      preempt = { kind: "too-many-requests", retryAfterSeconds: c.stormRetryAfterSeconds ?? 1 };
    } else if (rServer < (c.serverErrorRate ?? 0)) {
      preempt = { kind: "server-error", status: ([500, 502, 503] as const)[Math.floor(rStatus * 3)] };
    } else if (rDrop < (c.dropRate ?? 0)) {
      preempt = { kind: "drop" };
    }
    return { latencyMs, preempt, loseResponse: preempt === undefined && rLost < (c.lostResponseRate ?? 0) };
  }

  /** Whether a newly started action should end `errored`. */
  actionErrors(): boolean {
    return this.actionRandom() < (this.config.erroredActionRate ?? 0);
  }
}
