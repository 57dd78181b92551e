import type { Clock } from "../clock";
import type { Faults } from "./faults";
import type { RateLimiter } from "./rate-limit";
import type { RequestLog } from "./request-log";
import type { SimState } from "./state";

/** What the request handler works on. */
export interface ServerContext {
  state: SimState;
  faults: Faults;
  limiter: RateLimiter | null;
  log: RequestLog;
  token: string;
  clock: Clock;
  /** The simulator's base URL, known once it listens. */
  baseUrl(): string;
  /** Aborted on close, so pending latency sleeps end with the server. */
  closing: AbortSignal;
}
