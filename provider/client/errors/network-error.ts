import { DigitalOceanError } from "./digitalocean-error";

/** The connection failed (refused, reset, dropped) and retrying did not help or was not safe. */
export class NetworkError extends DigitalOceanError {
  constructor(
    readonly method: string,
    readonly path: string,
    /** The low-level error code, e.g. `ECONNRESET` or `UND_ERR_SOCKET`, when known. */
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`Network error on ${method} ${path}${code ? ` (${code})` : ""}: the connection to DigitalOcean failed`, options);
  }
}
