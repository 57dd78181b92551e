import type { Clock } from "../clock";
import type { Faults } from "./faults";
import type { SimToken } from "./identity";
import type { RateLimiter } from "./rate-limit";
import type { RequestLog } from "./request-log";
import type { SimState } from "./state";

/** What the request handler works on. */
export interface ServerContext {
  state: SimState;
  faults: Faults;
  limiter: RateLimiter | null;
  log: RequestLog;
  /** The tokens accepted, the first being the simulator's own; the rate limit counts each apart. */
  tokens: readonly SimToken[];
  /** `GET /v2/account`'s answer. */
  account: Record<string, unknown>;
  clock: Clock;
  /** The simulator's base URL, known once it listens. */
  baseUrl(): string;
  /** Aborted on close, so pending latency sleeps end with the server. */
  closing: AbortSignal;
}
