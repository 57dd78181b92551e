/**
 * The part of the engine that remembers things between runs: for each resource,
 * its id, last inputs and outputs (the stack's state). With it a test can run
 * preview / up / refresh / destroy / import against a dynamic-provider server
 * in a few lines. Deliberately small: see README.md for what is not modeled.
 */
import type { CapturedResource, PropertyMap } from "./capture";
import { ProviderError, type CheckFailure, type DiffResult, type DynamicProviderServer } from "./server";

export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  id: string;
  /** Checked inputs of the last successful step (what check/diff see as olds). */
  inputs: PropertyMap;
  /** Outputs (the engine's "state"), always including `__provider`. */
  outputs: PropertyMap;
  /** The `retainOnDelete` option: deleting it only forgets it. */
  retainOnDelete?: boolean;
  /**
   * Reasons of the last create/update that failed after the resource existed
   * (an init failure). The engine then updates it on the next up even when
   * diff reports no change (step_generator.go, applyReplaceOnChanges).
   */
  initErrors?: string[];
}

export type StepOp = "create" | "update" | "replace" | "same" | "delete" | "refresh" | "import";

export interface Step {
  op: StepOp;
  urn: string;
  name: string;
  /** The diff that decided update/replace/same. */
  diff?: DiffResult;
  /** Checked inputs (preview: may contain UNKNOWN). */
  inputs?: PropertyMap;
  /** The step failed with this error; up/refresh/destroy then reject after finishing the other resources. */
  error?: Error;
  /** A delete of a resource with `retainOnDelete`: removed from state, the provider was not called. */
  retained?: boolean;
}

/** check() returned failures: the engine stops before touching the resource. */
export class CheckFailedError extends Error {
  constructor(
    readonly urn: string,
    readonly failures: CheckFailure[],
  ) {
    super(`${urn}: check failed: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
    this.name = "CheckFailedError";
  }
}

/** One or more steps failed; `steps` has them all (successful ones were applied to the state). */
export class StepsFailedError extends Error {
  constructor(readonly steps: Step[]) {
    const failed = steps.filter((s) => s.error);
    super(failed.map((s) => `${s.op} ${s.name}: ${s.error?.message}`).join("\n"));
    this.name = "StepsFailedError";
  }
}

export class EngineStack {
  /** Resources by URN, in creation order. */
  readonly state = new Map<string, ResourceState>();

  /**
   * `provider`: the server to send calls to. The CLI starts a fresh plugin
   * process per command; to model that, assign a new server between runs.
   */
  constructor(public provider: DynamicProviderServer) {}

  /** The state of the resource with this logical name. */
  get(name: string): ResourceState {
    const found = [...this.state.values()].filter((r) => r.name === name);
    if (found.length !== 1) throw new Error(`expected one resource named "${name}" in state, found ${found.length}`);
    return found[0];
  }

  /** `pulumi preview`: check, then diff for resources already in state. Nothing is created, updated or deleted. */
  async preview(resources: CapturedResource[]): Promise<Step[]> {
    const steps: Step[] = [];
    for (const res of resources) {
      const { inputs, old } = await this.checkOne(res);
      if (!old) {
        steps.push({ op: "create", urn: res.urn, name: res.name, inputs });
        continue;
      }
      const diff = await this.diffOne(res, old, inputs);
      steps.push({ op: planOf(diff, old, inputs), urn: res.urn, name: res.name, inputs, diff });
    }
    for (const old of this.orphans(resources)) steps.push({ op: "delete", urn: old.urn, name: old.name });
    return steps;
  }

  /**
   * `pulumi up`: for each resource in program order check, diff, then create /
   * update / replace; then delete what the program no longer declares. A step
   * error does not stop the other resources; up rejects at the end with
   * StepsFailedError. Check failures reject at once with CheckFailedError.
   */
  async up(resources: CapturedResource[]): Promise<Step[]> {
    const steps: Step[] = [];
    const pendingDeletes: ResourceState[] = [];
    for (const res of resources) steps.push(await this.step(res, pendingDeletes));
    return this.finishUp(resources, steps, pendingDeletes);
  }

  /**
   * One resource's step of `pulumi up` (check, diff, create / update / replace),
   * for a driver that runs steps as the program registers resources (see
   * program.ts). A replaced resource's old state goes to `pendingDeletes`.
   * Check failures reject with CheckFailedError; other failures are in `error`.
   */
  async step(res: CapturedResource, pendingDeletes: ResourceState[] = []): Promise<Step> {
    const { inputs, old } = await this.checkOne(res);
    if (!old) return this.createOne(res, inputs);
    const diff = await this.diffOne(res, old, inputs);
    const op = planOf(diff, old, inputs);
    const step: Step = { op, urn: res.urn, name: res.name, inputs, diff };
    const retainOnDelete = res.options.retainOnDelete;
    const { initErrors: _cleared, ...kept } = old;
    if (op === "same") {
      // The engine keeps the outputs but records the new inputs.
      this.state.set(res.urn, { ...old, inputs, retainOnDelete });
    } else if (op === "update") {
      try {
        const outputs = await this.provider.update(old.id, res.urn, old.outputs, inputs, old.inputs);
        this.state.set(res.urn, { ...kept, inputs, outputs, retainOnDelete });
      } catch (err) {
        step.error = asError(err);
        const init = err instanceof ProviderError ? err.initFailure : undefined;
        if (init) this.state.set(res.urn, { ...old, inputs, outputs: init.properties, retainOnDelete, initErrors: init.reasons });
      }
    } else if (diff.deleteBeforeReplace || res.options.deleteBeforeReplace) {
      try {
        await this.deleteResource(old);
        this.state.delete(old.urn);
        step.error = (await this.createOne(res, inputs)).error;
      } catch (err) {
        step.error = asError(err);
      }
    } else {
      // Create the replacement first; the engine deletes the old one at the end.
      const created = await this.createOne(res, inputs, old);
      step.error = created.error;
      if (!created.error) pendingDeletes.push(old);
    }
    return step;
  }

  /**
   * The end of `pulumi up`: delete what the program no longer declares, then
   * the replaced resources; rejects with StepsFailedError if any step failed.
   */
  async finishUp(resources: CapturedResource[], steps: Step[], pendingDeletes: ResourceState[] = []): Promise<Step[]> {
    for (const old of [...this.orphans(resources)].reverse()) steps.push(await this.deleteOne(old));
    for (const old of pendingDeletes) {
      const step = await this.deleteOne(old, false);
      if (step.error) steps.push(step);
    }
    if (steps.some((s) => s.error)) throw new StepsFailedError(steps);
    return steps;
  }

  /**
   * `pulumi refresh`: read every resource in state. An empty id from read
   * removes it; returned inputs (if any) replace the stored inputs.
   */
  async refresh(): Promise<Step[]> {
    const steps: Step[] = [];
    for (const old of [...this.state.values()]) {
      const step: Step = { op: "refresh", urn: old.urn, name: old.name };
      steps.push(step);
      try {
        const read = await this.provider.read(old.id, old.urn, old.outputs, old.inputs);
        if (!read.id) {
          this.state.delete(old.urn);
          step.op = "delete";
        } else {
          this.state.set(old.urn, { ...old, id: read.id, outputs: read.properties, inputs: read.inputs ?? old.inputs });
        }
      } catch (err) {
        step.error = asError(err);
      }
    }
    if (steps.some((s) => s.error)) throw new StepsFailedError(steps);
    return steps;
  }

  /** `pulumi destroy`: delete everything in state, newest first. */
  async destroy(): Promise<Step[]> {
    const steps: Step[] = [];
    for (const old of [...this.state.values()].reverse()) steps.push(await this.deleteOne(old));
    if (steps.some((s) => s.error)) throw new StepsFailedError(steps);
    return steps;
  }

  /**
   * The `import` resource option (or `pulumi import`): the engine reads the
   * existing resource by id with no prior state, then checks and diffs the
   * program's inputs against what was read; any change fails the import.
   * Note: the real dynamic-provider server deserializes the provider from the
   * read request's properties, which the engine leaves empty for an import, so
   * this fails today (pulumi/pulumi#3550, #16175); the harness reproduces that.
   */
  async import(res: CapturedResource, id = res.options.importId): Promise<Step> {
    if (!id) throw new Error(`import ${res.name}: no id (pass one or set the import option)`);
    const read = await this.provider.read(id, res.urn, {}, res.inputs);
    if (!read.id) throw new Error(`import ${res.name}: resource ${id} does not exist`);
    const readInputs = read.inputs ?? read.properties;
    const { inputs, failures } = await this.provider.check(res.urn, readInputs, res.inputs);
    if (failures.length) throw new CheckFailedError(res.urn, failures);
    const diff = await this.provider.diff(read.id, res.urn, read.properties, inputs, readInputs);
    if (diff.changes === true || diff.replaces.length) {
      throw new Error(`import ${res.name}: inputs differ from the existing resource (${diff.replaces.join(", ") || "changes"})`);
    }
    this.state.set(res.urn, { urn: res.urn, type: res.type, name: res.name, id: read.id, inputs, outputs: read.properties });
    return { op: "import", urn: res.urn, name: res.name, inputs, diff };
  }

  private async checkOne(res: CapturedResource): Promise<{ inputs: PropertyMap; old?: ResourceState }> {
    const old = this.state.get(res.urn);
    let news = res.inputs;
    if (old && res.options.ignoreChanges.length) {
      // Top-level property names only.
      news = { ...news };
      for (const key of res.options.ignoreChanges) {
        if (key in old.inputs) news[key] = old.inputs[key];
        else delete news[key];
      }
    }
    const { inputs, failures } = await this.provider.check(res.urn, old?.inputs ?? {}, news);
    if (failures.length) throw new CheckFailedError(res.urn, failures);
    return { inputs, old };
  }

  private diffOne(res: CapturedResource, old: ResourceState, inputs: PropertyMap): Promise<DiffResult> {
    return this.provider.diff(old.id, res.urn, old.outputs, inputs, old.inputs);
  }

  private async createOne(res: CapturedResource, inputs: PropertyMap, replacing?: ResourceState): Promise<Step> {
    const step: Step = { op: replacing ? "replace" : "create", urn: res.urn, name: res.name, inputs };
    try {
      const { id, properties } = await this.provider.create(res.urn, inputs);
      this.state.set(res.urn, { urn: res.urn, type: res.type, name: res.name, id, inputs, outputs: properties, retainOnDelete: res.options.retainOnDelete });
    } catch (err) {
      step.error = asError(err);
      // Created but failed to initialize: the engine keeps it in state.
      const init = err instanceof ProviderError ? err.initFailure : undefined;
      if (init) {
        const { retainOnDelete } = res.options;
        this.state.set(res.urn, { urn: res.urn, type: res.type, name: res.name, id: init.id, inputs, outputs: init.properties, retainOnDelete, initErrors: init.reasons });
      }
    }
    return step;
  }

  private async deleteOne(old: ResourceState, removeFromState = true): Promise<Step> {
    const step: Step = { op: "delete", urn: old.urn, name: old.name, ...(old.retainOnDelete ? { retained: true } : {}) };
    try {
      await this.deleteResource(old);
      if (removeFromState) this.state.delete(old.urn);
    } catch (err) {
      step.error = asError(err);
    }
    return step;
  }

  /** The provider's delete, unless the resource has `retainOnDelete` (the engine then only forgets it). */
  private async deleteResource(old: ResourceState): Promise<void> {
    if (!old.retainOnDelete) await this.provider.delete(old.id, old.urn, old.outputs, old.inputs);
  }

  private orphans(resources: CapturedResource[]): ResourceState[] {
    const declared = new Set(resources.map((r) => r.urn));
    return [...this.state.values()].filter((r) => !declared.has(r.urn));
  }
}

/**
 * The engine's reading of a DiffResponse: replaces → replace; DIFF_SOME →
 * update; DIFF_NONE → same; DIFF_UNKNOWN → it compares old and new inputs. A
 * resource with init errors is updated whatever diff says.
 */
function planOf(diff: DiffResult, old: ResourceState, inputs: PropertyMap): "replace" | "update" | "same" {
  if (diff.replaces.length > 0) return "replace";
  if (diff.changes === true || old.initErrors?.length) return "update";
  if (diff.changes === false) return "same";
  return deepEqual(old.inputs, inputs) ? "same" : "update";
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as PropertyMap)[k], (b as PropertyMap)[k]));
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
