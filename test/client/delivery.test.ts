import { errors } from "undici";
import { ApiError, NetworkError, RateLimitError, RequestTimeoutError, ResponseBodyError } from "../../provider/client/errors";
import { classify } from "../../provider/client/interceptors/retry";
import { deliveryOf, mayHaveTakenEffect, type Delivery } from "../../provider/client/policy/delivery";

/** An error as undici or Node.js raises it: the code on the error itself. */
const coded = (code: string) => Object.assign(new Error(code), { code });
/** An error as undici wraps some socket errors: the code on the cause. */
const wrapped = (code: string) => new Error("fetch failed", { cause: coded(code) });
const apiError = (status: number) => new ApiError({ status, errorId: "x", apiMessage: "x", method: "POST", path: "/v2/images/1/actions" });
const bodyError = (problem: ResponseBodyError["problem"], status: number | undefined) => new ResponseBodyError(problem, status, "POST", "/v2/images/1/actions", "detail");

const NOT_SENT: Delivery = { kind: "not-sent", clientClosed: false };
const CUT_OFF: Delivery = { kind: "maybe-processed", silent: false, transient: true };
const SILENT: Delivery = { kind: "maybe-processed", silent: true, transient: true };
const UNKNOWN: Delivery = { kind: "maybe-processed", silent: false, transient: false };

const table: [string, unknown, Delivery, boolean][] = [
  // [what happened, the error, was it sent?, may the POST have started its action?]
  ["connection refused", coded("ECONNREFUSED"), NOT_SENT, false],
  ["host name not found", coded("ENOTFOUND"), NOT_SENT, false],
  ["host name lookup failed for now", coded("EAI_AGAIN"), NOT_SENT, false],
  ["connect timeout", new errors.ConnectTimeoutError(), NOT_SENT, false],
  ["client closed", new errors.ClientClosedError(), { kind: "not-sent", clientClosed: true }, false],
  ["refused, as the client reports it", new NetworkError("POST", "/v2/images/1/actions", "ECONNREFUSED"), NOT_SENT, false],
  ["host not found, as the client reports it", new NetworkError("POST", "/v2/images/1/actions", "ENOTFOUND"), NOT_SENT, false],
  ["client closed, as the client reports it", new NetworkError("POST", "/v2/images/1/actions", "UND_ERR_CLOSED"), { kind: "not-sent", clientClosed: true }, false],
  ["connection reset", coded("ECONNRESET"), CUT_OFF, true],
  ["connection reset, code on the cause", wrapped("ECONNRESET"), CUT_OFF, true],
  ["broken pipe", coded("EPIPE"), CUT_OFF, true],
  ["socket error", new errors.SocketError("other side closed"), CUT_OFF, true],
  ["host unreachable", coded("EHOSTUNREACH"), CUT_OFF, true],
  ["TCP timeout", coded("ETIMEDOUT"), SILENT, true],
  ["no headers in time", new errors.HeadersTimeoutError(), SILENT, true],
  ["body stalled", new errors.BodyTimeoutError(), CUT_OFF, true],
  ["attempt timed out before any answer", new RequestTimeoutError("POST", "/v2/images/1/actions", 30_000), SILENT, true],
  ["attempt timed out mid-answer", new RequestTimeoutError("POST", "/v2/images/1/actions", 30_000, "DigitalOcean", true), CUT_OFF, true],
  ["answer cut short", bodyError("truncated", 201), CUT_OFF, true],
  ["server error", apiError(500), CUT_OFF, true],
  ["bad gateway", apiError(502), CUT_OFF, true],
  ["client destroyed", new errors.ClientDestroyedError(), UNKNOWN, true],
  ["an error nobody recognises", new Error("something else"), UNKNOWN, true],
  ["a 2xx that is not JSON", bodyError("not-json", 201), { kind: "answered", status: 201 }, true],
  ["a 2xx of the wrong shape", bodyError("wrong-shape", 201), { kind: "answered", status: 201 }, true],
  ["an error answer too large to read", bodyError("too-large", 400), { kind: "answered", status: 400 }, false],
  ["refused as unprocessable", apiError(422), { kind: "answered", status: 422 }, false],
  ["not found", apiError(404), { kind: "answered", status: 404 }, false],
  ["rate limited", new RateLimitError("POST", "/v2/images/1/actions", 1_000, 0, { perMinute: 250, perHour: 5_000 }), { kind: "answered", status: 429 }, false],
];

describe("was the request sent?", () => {
  test.each(table)("%s", (_, error, delivery, mayHaveStarted) => {
    expect(deliveryOf(error)).toEqual(delivery);
    expect(mayHaveTakenEffect(deliveryOf(error))).toBe(mayHaveStarted);
  });

  test("the retry layer sends again what was never sent or was cut off by a passing fault, and nothing else", () => {
    expect(classify(coded("ENOTFOUND"))).toEqual({ kind: "not-sent" });
    expect(classify(new errors.ConnectTimeoutError())).toEqual({ kind: "not-sent" });
    expect(classify(coded("ECONNRESET"))).toEqual({ kind: "ambiguous", silent: false });
    expect(classify(new errors.HeadersTimeoutError())).toEqual({ kind: "ambiguous", silent: true });
    expect(classify(bodyError("truncated", 200))).toEqual({ kind: "ambiguous", silent: false });
    // A closed or destroyed client will send nothing again; an unknown failure is not worth a wait.
    expect(classify(new errors.ClientClosedError())).toEqual({ kind: "fatal" });
    expect(classify(new errors.ClientDestroyedError())).toEqual({ kind: "fatal" });
    expect(classify(new Error("something else"))).toEqual({ kind: "fatal" });
    expect(classify(bodyError("too-large", 200))).toEqual({ kind: "fatal" });
  });
});
