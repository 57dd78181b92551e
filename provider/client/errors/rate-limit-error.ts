import type { RateLimits } from "../rate-limit/windows";
import { DigitalOceanError } from "../../errors";

/**
 * DigitalOcean's rate limit would make the call wait longer than its deadline
 * allows. Raised only then: within the deadline the client waits instead.
 */
export class RateLimitError extends DigitalOceanError {
  constructor(
    readonly method: string,
    readonly path: string,
    /** How long the limit asked to wait, in milliseconds. */
    readonly retryAfterMs: number,
    /** How much of the call's deadline was left, in milliseconds. */
    readonly remainingMs: number,
    /** The limits the client paces the token's requests by. */
    readonly limits: RateLimits,
  ) {
    const count = (n: number) => n.toLocaleString("en-US");
    super(
      `DigitalOcean API rate limit on ${method} ${path}: the next request is allowed in ${Math.ceil(retryAfterMs / 1000)} s, ` +
        `beyond the ${Math.max(0, Math.floor(remainingMs / 1000))} s left before the call's deadline ` +
        `(${count(limits.perMinute)} requests/minute, ${count(limits.perHour)}/hour per token)`,
    );
  }
}
