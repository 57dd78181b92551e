import { DigitalOceanError } from "../../errors";

/** What DigitalOcean answered to a request that did not succeed. */
export interface ApiErrorDetails {
  status: number;
  /**
   * DigitalOcean's error id, e.g. `not_found`; `unknown` when the body had none.
   * Not named `id`: Pulumi's dynamic-provider server reads an error's `id` as
   * "resource created but not initialized" and would record it as a resource id.
   */
  errorId: string;
  /** DigitalOcean's own explanation, or a description of the unreadable body. */
  apiMessage: string;
  requestId?: string;
  method: string;
  /** The URL path (no query, no host), e.g. `/v2/images/123`. */
  path: string;
}

/** A non-2xx answer from the DigitalOcean API. */
export class ApiError extends DigitalOceanError {
  readonly status: number;
  readonly errorId: string;
  readonly apiMessage: string;
  readonly requestId?: string;
  readonly method: string;
  readonly path: string;

  constructor(details: ApiErrorDetails) {
    const requestPart = details.requestId ? ` (request_id ${details.requestId})` : "";
    super(`DigitalOcean API ${details.status} ${details.errorId} on ${details.method} ${details.path}: ${details.apiMessage}${requestPart}`);
    this.status = details.status;
    this.errorId = details.errorId;
    this.apiMessage = details.apiMessage;
    this.requestId = details.requestId;
    this.method = details.method;
    this.path = details.path;
  }

  /** The same error with advice appended to DigitalOcean's message. */
  withAdvice(advice: string): ApiError {
    return new ApiError({ ...this, apiMessage: `${this.apiMessage}. ${advice}` });
  }

  /** True when `error` is DigitalOcean saying the resource does not exist. */
  static isNotFound(error: unknown): error is ApiError {
    return error instanceof ApiError && error.status === 404;
  }
}
