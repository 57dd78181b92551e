import { DigitalOceanError } from "../../errors";

/**
 * A converge that got part of the way: the physical resource exists (its id is
 * known) but an action failed or is still running. The dynamic provider hands
 * `id` and `state` to Pulumi as a partially created resource, so the next
 * `pulumi up` updates it (and resumes the action) instead of creating it again.
 */
export class IncompleteError<State> extends DigitalOceanError {
  override readonly name = "IncompleteError";

  /** Whether the message already says how the next run goes on, so a caller wrapping it does not say it again. */
  readonly advised: boolean;

  constructor(
    message: string,
    readonly id: string,
    readonly state: State,
    options?: { cause?: unknown; advised?: boolean },
  ) {
    super(message, options);
    this.advised = options?.advised ?? false;
  }
}
