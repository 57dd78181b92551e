/**
 * `pulumi preview` with the program running, as under the CLI: each
 * registration is checked and diffed when the program makes it, and the program
 * gets back what the engine hands a program in a preview when the provider does
 * not preview its own steps (a dynamic provider never does): for a resource that
 * stays the same, its id and stored outputs; for an update, its id and the new
 * inputs (pkg/resource/deploy/step.go, UpdateStep; plugin/provider_plugin.go,
 * Update); for a create or a replacement, only the inputs. An output that is not
 * also an input is therefore unknown downstream of an update, as under the CLI.
 * Resources of other providers are taken as new: their outputs are unknown.
 */
import { capture, type CaptureOptions } from "./capture";
import type { ProgramRun } from "./program";
import type { EngineStack, Step } from "./stack";

const DYNAMIC = "pulumi-nodejs:dynamic/";

export async function previewProgram<T>(
  stack: EngineStack,
  program: () => T | Promise<T>,
  options: Omit<CaptureOptions, "preview" | "newResource" | "register"> = {},
): Promise<ProgramRun<Awaited<T>>> {
  const steps: Step[] = [];
  let stopped: unknown;
  const run = await capture(program, {
    ...options,
    preview: true,
    register: async (res) => {
      if (stopped || !res.type.startsWith(DYNAMIC)) return undefined;
      let step: Step;
      try {
        // Its own step comes first; the deletes of everything else in state follow and are not this resource's.
        [step] = await stack.preview([res]);
      } catch (err) {
        stopped = err;
        return undefined;
      }
      steps.push(step);
      const old = stack.state.get(res.urn);
      if (!old) return undefined;
      if (step.op === "same") return { id: old.id, state: old.outputs };
      if (step.op === "update") return { id: old.id, state: step.inputs };
      return undefined;
    },
  });
  if (stopped) throw stopped;
  const declared = new Set(run.resources.map((r) => r.urn));
  for (const old of stack.state.values()) if (!declared.has(old.urn)) steps.push({ op: "delete", urn: old.urn, name: old.name });
  return { steps, resources: run.resources, result: run.result };
}
