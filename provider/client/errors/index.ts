export { ApiError, type ApiErrorDetails } from "./api-error";
export { NetworkError } from "./network-error";
export { RequestTimeoutError } from "./request-timeout-error";
export { ResponseBodyError, type ResponseBodyProblem } from "./response-body-error";
export { RateLimitError } from "./rate-limit-error";
export { ConfigurationError } from "./configuration-error";
export { InsecureEndpointError } from "./insecure-endpoint-error";
