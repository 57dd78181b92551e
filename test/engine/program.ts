/**
 * `pulumi up` with the program running, as under the CLI: each registration is
 * stepped (check, diff, create / update / replace) when the program makes it,
 * and the program gets the provider's real outputs back, so a resource built
 * from another's output (`imageId: kept.snapshotId`) sees the real value.
 * `EngineStack.up` instead steps a finished capture, which suits programs
 * whose inputs are all known up front.
 */
import { capture, type CaptureOptions, type CapturedResource } from "./capture";
import { UpRun, type EngineStack, type Step, type UpOptions } from "./stack";

export interface ProgramRun<T> {
  steps: Step[];
  resources: CapturedResource[];
  /** What the program returned, Outputs resolved. */
  result: T;
}

/**
 * Runs `program` as `pulumi up` does and applies it to `stack`, one
 * registration at a time in the order the program makes them, under the
 * engine's rules for failures (UpRun): after a failed step no registration is
 * stepped and nothing is deleted; with `continueOnError` only the dependents
 * of failed steps are skipped. Rejects with StepsFailedError (its `steps` has
 * them all) or CheckFailedError, like `EngineStack.up`.
 */
export async function upProgram<T>(
  stack: EngineStack,
  program: () => T | Promise<T>,
  options: Omit<CaptureOptions, "preview" | "newResource" | "register"> & UpOptions = {},
): Promise<ProgramRun<Awaited<T>>> {
  const { continueOnError, ...captureOptions } = options;
  const run = new UpRun(stack, { continueOnError });
  let checkFailure: unknown;
  const captured = await capture(program, {
    ...captureOptions,
    register: async (res) => {
      if (run.stopped || checkFailure) return undefined;
      let step: Step;
      try {
        step = await run.step(res);
      } catch (err) {
        checkFailure = err;
        return undefined;
      }
      const state = stack.state.get(res.urn);
      return state && !step.error && !step.skipped ? { id: state.id, state: state.outputs } : undefined;
    },
  });
  if (checkFailure) throw checkFailure;
  await run.finish(captured.resources);
  return { steps: run.steps, resources: captured.resources, result: captured.result };
}
