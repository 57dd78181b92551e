/**
 * `pulumi up` with the program running, as under the CLI: each registration is
 * stepped (check, diff, create / update / replace) when the program makes it,
 * and the program gets the provider's real outputs back, so a resource built
 * from another's output (`imageId: kept.snapshotId`) sees the real value.
 * `EngineStack.up` instead steps a finished capture, which suits programs
 * whose inputs are all known up front.
 */
import { capture, type CaptureOptions, type CapturedResource } from "./capture";
import { StepsFailedError, type EngineStack, type ResourceState, type Step } from "./stack";

export interface ProgramRun<T> {
  steps: Step[];
  resources: CapturedResource[];
  /** What the program returned, Outputs resolved. */
  result: T;
}

/**
 * Runs `program` as `pulumi up` does and applies it to `stack`. Registrations
 * are stepped one at a time in the order the program makes them; after a failed
 * step the rest are not stepped (the engine would go on with independent ones)
 * and nothing is deleted. Rejects with StepsFailedError (its `steps` has them
 * all) or CheckFailedError, like `EngineStack.up`.
 */
export async function upProgram<T>(
  stack: EngineStack,
  program: () => T | Promise<T>,
  options: Omit<CaptureOptions, "preview" | "newResource" | "register"> = {},
): Promise<ProgramRun<Awaited<T>>> {
  const steps: Step[] = [];
  const pendingDeletes: ResourceState[] = [];
  let stopped: unknown;
  const run = await capture(program, {
    ...options,
    register: async (res) => {
      if (stopped) return undefined;
      let step: Step;
      try {
        step = await stack.step(res, pendingDeletes);
      } catch (err) {
        stopped = err;
        return undefined;
      }
      steps.push(step);
      if (step.error) stopped = step.error;
      const state = stack.state.get(res.urn);
      return state && !step.error ? { id: state.id, state: state.outputs } : undefined;
    },
  });
  if (stopped && !steps.some((s) => s.error)) throw stopped;
  if (stopped) throw new StepsFailedError(steps);
  await stack.finishUp(run.resources, steps, pendingDeletes);
  return { steps, resources: run.resources, result: run.result };
}
