import { DigitalOceanError } from "../../errors";
import type { Action } from "../../api/types";
import { describeAction } from "./describe-action";

/** The action ended `errored` at DigitalOcean. What that left and what to do next is the caller's to say. */
export class ActionErroredError extends DigitalOceanError {
  constructor(readonly action: Action) {
    super(
      `DigitalOcean action ${action.id} (${describeAction(action)}) ended errored at ${action.completed_at ?? "an unknown time"}`,
    );
  }
}
