import { DigitalOceanError } from "../../errors";

/** One attempt got no complete answer within the per-request timeout. */
export class RequestTimeoutError extends DigitalOceanError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly timeoutMs: number,
    /** The endpoint and where it was configured, as NetworkError names it. */
    endpoint = "DigitalOcean",
    /** Whether the answer had begun (status and headers came) before time ran out. */
    readonly answerStarted = false,
  ) {
    super(`Timed out after ${timeoutMs} ms waiting for ${endpoint} to ${answerStarted ? "finish answering" : "answer"} ${method} ${path}`);
  }
}
