export { ActionErroredError } from "./action-errored-error";
export { ActionTimeoutError } from "./action-timeout-error";
