import { ApiError, RateLimitError, RequestTimeoutError, ResponseBodyError } from "../errors";

/**
 * What a failed attempt tells about whether DigitalOcean got the request. The
 * one answer to "was it sent?" for the retry layer (may it be sent again?) and
 * for a POST that starts an action (must its caller look for the action first?).
 */
export type Delivery =
  /**
   * It provably never reached the server: sending it again cannot make it
   * happen twice. `clientClosed`: it was held back because the client closed,
   * so sending it again cannot help either.
   */
  | { kind: "not-sent"; clientClosed: boolean }
  /**
   * It may have reached the server and been processed, and nothing that came
   * back says whether. `silent`: not a byte of an answer came back in time.
   * `transient`: a fault known to pass (a reset, a timeout, a cut answer, a 5xx),
   * so sending it again may well succeed; false for failures this package does
   * not recognise.
   */
  | { kind: "maybe-processed"; silent: boolean; transient: boolean }
  /**
   * The server answered with `status`: a 2xx means it did what was asked (even
   * when the body could not be read), anything else that it did not.
   */
  | { kind: "answered"; status: number };

/**
 * Codes of connections that were never made, so no byte of the request left this machine:
 * - ECONNREFUSED: the host answered the connection attempt with a reset; nothing listens there.
 * - ENOTFOUND, EAI_AGAIN: the host name did not resolve (for good, or for now): there was no address to send to.
 * - UND_ERR_CONNECT_TIMEOUT: the TCP (or TLS) handshake did not finish; requests are written only after it.
 */
const NEVER_CONNECTED_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

/** The request was dispatched to a client already closed, which refuses it before sending anything. */
const CLIENT_CLOSED_CODE = "UND_ERR_CLOSED";

/**
 * Codes of connections that failed after the request may have been written, all of them passing faults:
 * - ECONNRESET, EPIPE, UND_ERR_SOCKET: the connection broke while sending or waiting; the server may have read it all.
 * - ETIMEDOUT, UND_ERR_HEADERS_TIMEOUT, UND_ERR_BODY_TIMEOUT: the server went quiet, maybe while working on it.
 * - ENETUNREACH, EHOSTUNREACH, ENETDOWN, EHOSTDOWN: the route went away; it can do so under an established connection too.
 * Not UND_ERR_DESTROYED: a destroyed client ends the requests it was sending, but will send nothing again.
 */
const CUT_OFF_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "UND_ERR_SOCKET",
  "ETIMEDOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
]);

/** Cut-off codes in which nothing at all came back in time. */
const SILENT_CODES = new Set(["ETIMEDOUT", "UND_ERR_HEADERS_TIMEOUT"]);

/**
 * Whether `error`, the failure of one attempt or of a whole call, reached the
 * server. Reads this package's errors and undici's (by their `code`, or their
 * cause's, as undici wraps some).
 */
export function deliveryOf(error: unknown): Delivery {
  // A 5xx may come from a proxy in front of a server that did the work, or from the server after doing it.
  if (error instanceof ApiError) return error.status >= 500 ? { kind: "maybe-processed", silent: false, transient: true } : { kind: "answered", status: error.status };
  // A 429 is DigitalOcean saying it did not process the request.
  if (error instanceof RateLimitError) return { kind: "answered", status: 429 };
  if (error instanceof RequestTimeoutError) return { kind: "maybe-processed", silent: !error.answerStarted, transient: true };
  if (error instanceof ResponseBodyError) {
    // A body cut short leaves the status unconfirmed; any other problem is with a complete answer.
    if (error.problem === "truncated" || error.status === undefined) return { kind: "maybe-processed", silent: false, transient: error.problem === "truncated" };
    return { kind: "answered", status: error.status };
  }
  const code = errorCode(error);
  if (code !== undefined && NEVER_CONNECTED_CODES.has(code)) return { kind: "not-sent", clientClosed: false };
  if (code === CLIENT_CLOSED_CODE) return { kind: "not-sent", clientClosed: true };
  if (code !== undefined && CUT_OFF_CODES.has(code)) return { kind: "maybe-processed", silent: SILENT_CODES.has(code), transient: true };
  // Unknown: assume the worst for a request that must not happen twice, and do not send it again blindly.
  return { kind: "maybe-processed", silent: false, transient: false };
}

/** Whether the request may have done what it asked for, so that a caller must look before sending it again. */
export function mayHaveTakenEffect(delivery: Delivery): boolean {
  if (delivery.kind === "answered") return delivery.status >= 200 && delivery.status < 300;
  return delivery.kind === "maybe-processed";
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } };
  if (typeof code === "string") return code;
  return typeof cause?.code === "string" ? cause.code : undefined;
}
