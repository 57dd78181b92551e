import type { ErrorBody } from "../api/types";

/** DigitalOcean's error `id` for each status the simulator answers with. */
const ERROR_IDS: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  422: "unprocessable_entity",
  429: "too_many_requests",
  500: "server_error",
  502: "bad_gateway",
  503: "service_unavailable",
};

/** DigitalOcean's own wording where it is known, so clients matching on it behave the same. */
const DEFAULT_MESSAGES: Record<number, string> = {
  401: "Unable to authenticate you.",
  403: "You do not have access for the attempted action.",
  404: "The resource you requested could not be found.",
  429: "API rate limit exceeded.",
  500: "Unexpected server-side error",
  502: "Bad gateway: the upstream service did not answer.",
  503: "The service is temporarily unavailable. Please try again later.",
};

/**
 * A refusal a handler throws; the server turns it into DigitalOcean's error body
 * `{"id","message","request_id"}` with the given status.
 */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    message?: string,
    /** Replaces the standard error body (DigitalOcean answers some refusals differently). */
    readonly body?: Record<string, unknown>,
  ) {
    super(message ?? DEFAULT_MESSAGES[status] ?? `HTTP ${status}`);
  }
}

/** 400: the request body or query is malformed. */
export const badRequest = (message: string) => new ApiRefusal(400, message);
/** 404: an unknown id or route. */
export const notFound = () => new ApiRefusal(404);
/** 422: a well-formed request for something impossible. */
export const unprocessable = (message: string) => new ApiRefusal(422, message);

/** The JSON body DigitalOcean sends with a non-2xx status. */
export function errorBody(status: number, message: string | undefined, requestId: string): ErrorBody {
  return {
    id: ERROR_IDS[status] ?? "error",
    message: message ?? DEFAULT_MESSAGES[status] ?? `HTTP ${status}`,
    request_id: requestId,
  };
}
