/**
 * Base class of every error this package raises about DigitalOcean (the
 * client's, the waiter's and the converge logic's), so callers can tell them
 * apart from programming errors with one `instanceof`.
 */
export class DigitalOceanError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
