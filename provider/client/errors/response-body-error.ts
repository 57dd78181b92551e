import { DigitalOceanError } from "../../errors";

/** Why a response body could not be used. */
export type ResponseBodyProblem = "too-large" | "truncated" | "not-json" | "wrong-shape";

/** A response whose body is too large, cut short, not JSON, or not the expected shape. */
export class ResponseBodyError extends DigitalOceanError {
  constructor(
    readonly problem: ResponseBodyProblem,
    readonly status: number | undefined,
    readonly method: string,
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Unusable response body${status === undefined ? "" : ` (HTTP ${status})`} on ${method} ${path}: ${detail}`, options);
  }
}
