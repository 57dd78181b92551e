import { DigitalOceanError } from "../../errors";

/**
 * DigitalOcean answered 404 for an image, but the answer cannot be trusted to
 * mean the image is gone: the endpoint or token does not reach the account that
 * holds it. Refresh, destroy and create fail with this instead of dropping the
 * resource from state or blaming the input.
 */
export class UnconfirmedNotFoundError extends DigitalOceanError {
  override readonly name = "UnconfirmedNotFoundError";
}
