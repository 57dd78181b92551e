import { Pool, type Dispatcher } from "undici";
import type { Clock } from "../clock";
import { apiErrors } from "./interceptors/api-errors";
import { rateLimit } from "./interceptors/rate-limit";
import { responseBody } from "./interceptors/response-body";
import { retry } from "./interceptors/retry";
import { MAX_IN_FLIGHT, type RequestPacer } from "./rate-limit/pacer";

/**
 * 30 s per attempt: DigitalOcean answers these endpoints in well under a second;
 * an attempt this slow is stuck, and retrying it (when safe) is the better bet.
 */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * The network does not speed up with a scaled clock: whatever the scale, an
 * attempt gets at least 10 real seconds, so a loaded machine running the
 * simulator fast does not turn slow answers into spurious timeouts.
 */
const MIN_REAL_REQUEST_TIMEOUT_MS = 10_000;
/** 16 MiB: a page of 200 images or actions is well under 1 MiB; anything this big is not a DigitalOcean answer. */
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/**
 * Real ms to wait for a TCP (and TLS) connection: DigitalOcean's API accepts
 * within a second from anywhere; a host that takes longer is the wrong one or
 * unreachable, and the user should hear so soon (MAX_NOT_SENT_ATTEMPTS of these).
 */
const CONNECT_TIMEOUT_MS = 5_000;

/** What the transport of one client needs. */
export interface TransportOptions {
  origin: string;
  clock: Clock;
  pacer: RequestPacer;
  /** The endpoint and where it was configured, as timeouts name it. */
  endpoint: string;
  /** Clock ms one attempt may take. Default 30 s, and at least 10 real seconds. */
  requestTimeoutMs?: number;
  /** Largest response body accepted, in bytes. Default 16 MiB. */
  maxResponseBytes?: number;
}

/**
 * The connection pool to `origin` and the interceptors every request goes
 * through: the token's pacer, retries of transient failures, bounded body
 * reading and DigitalOcean error parsing.
 */
export function createTransport(options: TransportOptions): { pool: Pool; dispatcher: Dispatcher } {
  const { clock, pacer } = options;
  // Attempt timeouts run on the Clock (response-body layer), so undici's own wall-clock ones are off.
  const pool = new Pool(options.origin, { connections: MAX_IN_FLIGHT, headersTimeout: 0, bodyTimeout: 0, connect: { timeout: CONNECT_TIMEOUT_MS } });
  // Innermost first: each attempt is bounded, then paced; retries wrap attempts; errors are read last.
  const dispatcher = pool.compose(
    responseBody({
      clock,
      timeoutMs: options.requestTimeoutMs ?? Math.max(DEFAULT_REQUEST_TIMEOUT_MS, MIN_REAL_REQUEST_TIMEOUT_MS / clock.scale),
      maxBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      endpoint: options.endpoint,
    }),
    rateLimit(pacer),
    retry({ clock }),
    apiErrors({ clock, limits: pacer.limits }),
  );
  return { pool, dispatcher };
}
