import { DigitalOceanError } from "./digitalocean-error";

/** One attempt got no complete answer within the per-request timeout. */
export class RequestTimeoutError extends DigitalOceanError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`Timed out after ${timeoutMs} ms waiting for DigitalOcean to answer ${method} ${path}`);
  }
}
