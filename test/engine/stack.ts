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
  /** URNs it depended on when last stepped: the engine holds back their deletion while its step is failed. */
  dependencies?: string[];
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
  /** The step failed with this error; up, refresh and destroy then reject (see UpOptions for what up does after it). */
  error?: Error;
  /** Planned (checked and diffed) but not applied: it depends on a failed step (`continueOnError`). */
  skipped?: boolean;
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

/** How `pulumi up` goes on after a failed step. */
export interface UpOptions {
  /**
   * `pulumi up --continue-on-error`: steps that do not depend on a failed one
   * still run, and so do the deletes, except of what a failed resource depends
   * on. Without it (the engine's default) no step starts after the first
   * failure and nothing is deleted. Either way up fails.
   */
  continueOnError?: boolean;
}

/**
 * One `pulumi up`'s steps, under the engine's rules for failures
 * (pkg/resource/deploy/step_executor.go, deployment_executor.go): after a
 * failed step the engine cancels the deployment, starting no further step and
 * skipping the deletes; with `continueOnError` it skips only the steps that
 * depend, directly or through skipped ones, on a failed step, and holds back
 * the deletion of resources a failed resource depends on. Steps run one at a
 * time in registration order; see README.md for what that leaves out.
 */
export class UpRun {
  readonly steps: Step[] = [];
  private readonly pendingDeletes: ResourceState[] = [];
  /** Failed steps' URNs and those of the steps skipped for them. */
  private readonly failed = new Set<string>();
  /** State before the run of the resources whose step failed. */
  private readonly failedOlds: ResourceState[] = [];

  constructor(
    private readonly stack: EngineStack,
    readonly options: UpOptions = {},
  ) {}

  /** A step failed and the engine starts no more: the rest of the program's registrations get no step. */
  get stopped(): boolean {
    return !this.options.continueOnError && this.failed.size > 0;
  }

  /**
   * One resource's step (check, diff, then create / update / replace, or a
   * skip). Check failures reject with CheckFailedError; other failures are in
   * the step's `error`. Throws when called after the run stopped.
   */
  async step(res: CapturedResource): Promise<Step> {
    if (this.stopped) throw new Error(`step ${res.name}: the up stopped at its first failed step`);
    const old = this.stack.state.get(res.urn);
    const planned = await this.stack.plan(res);
    let step: Step;
    if (res.dependencies.some((urn) => this.failed.has(urn))) {
      step = { op: planned.op, urn: res.urn, name: res.name, inputs: planned.inputs, diff: planned.diff, skipped: true };
      this.failed.add(res.urn);
    } else {
      step = await this.stack.apply(res, planned, this.pendingDeletes);
      if (step.error) {
        this.failed.add(res.urn);
        if (old) this.failedOlds.push(old);
      }
    }
    this.steps.push(step);
    return step;
  }

  /**
   * The end of `pulumi up`: unless the run stopped, delete what the program no
   * longer declares, then the replaced resources, holding back what a failed
   * resource depends on; rejects with StepsFailedError if any step failed.
   */
  async finish(resources: CapturedResource[]): Promise<Step[]> {
    if (!this.stopped) {
      const held = this.heldForFailed();
      for (const old of [...this.stack.orphans(resources)].reverse()) {
        if (!held.has(old.urn)) this.steps.push(await this.stack.deleteOne(old));
      }
      for (const old of this.pendingDeletes) {
        if (held.has(old.urn)) continue;
        const step = await this.stack.deleteOne(old, false);
        if (step.error) this.steps.push(step);
      }
    }
    if (this.failed.size > 0 || this.steps.some((s) => s.error)) throw new StepsFailedError(this.steps);
    return this.steps;
  }

  /** URNs the failed resources depended on before the run, directly or not: the engine does not delete them. */
  private heldForFailed(): Set<string> {
    const held = new Set<string>();
    const visit = (urns: readonly string[] | undefined) => {
      for (const urn of urns ?? []) {
        if (held.has(urn)) continue;
        held.add(urn);
        visit(this.stack.state.get(urn)?.dependencies);
      }
    };
    for (const old of this.failedOlds) visit(old.dependencies);
    return held;
  }
}

/** A step decided by check and diff, before it is applied. */
export interface PlannedStep {
  op: "create" | "update" | "replace" | "same";
  inputs: PropertyMap;
  old?: ResourceState;
  diff?: DiffResult;
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
   * update / replace; then delete what the program no longer declares. After
   * a failed step it goes on only with `continueOnError` (see UpRun), and
   * rejects at the end with StepsFailedError. Check failures reject at once
   * with CheckFailedError.
   */
  async up(resources: CapturedResource[], options: UpOptions = {}): Promise<Step[]> {
    const run = new UpRun(this, options);
    for (const res of resources) {
      if (run.stopped) break;
      await run.step(res);
    }
    return run.finish(resources);
  }

  /** Check and diff of one resource of `pulumi up`: what its step will do. Check failures reject with CheckFailedError. */
  async plan(res: CapturedResource): Promise<PlannedStep> {
    const { inputs, old } = await this.checkOne(res);
    if (!old) return { op: "create", inputs };
    const diff = await this.diffOne(res, old, inputs);
    return { op: planOf(diff, old, inputs), inputs, old, diff };
  }

  /**
   * Applies a planned step (create / update / replace, or records the new
   * inputs of a resource that stays the same). A replaced resource's old state
   * goes to `pendingDeletes`. Failures are in the step's `error`.
   */
  async apply(res: CapturedResource, planned: PlannedStep, pendingDeletes: ResourceState[]): Promise<Step> {
    const { op, inputs, old, diff } = planned;
    if (!old) return this.createOne(res, inputs);
    const step: Step = { op, urn: res.urn, name: res.name, inputs, diff };
    const retainOnDelete = res.options.retainOnDelete;
    const dependencies = res.dependencies;
    const { initErrors: _cleared, ...kept } = old;
    if (op === "same") {
      // The engine keeps the outputs but records the new inputs.
      this.state.set(res.urn, { ...old, inputs, retainOnDelete, dependencies });
    } else if (op === "update") {
      try {
        const outputs = await this.provider.update(old.id, res.urn, old.outputs, inputs, old.inputs);
        this.state.set(res.urn, { ...kept, inputs, outputs, retainOnDelete, dependencies });
      } catch (err) {
        step.error = asError(err);
        const init = err instanceof ProviderError ? err.initFailure : undefined;
        if (init) this.state.set(res.urn, { ...old, inputs, outputs: init.properties, retainOnDelete, dependencies, initErrors: init.reasons });
      }
    } else if (diff?.deleteBeforeReplace || res.options.deleteBeforeReplace) {
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
      this.state.set(res.urn, { urn: res.urn, type: res.type, name: res.name, id, inputs, outputs: properties, retainOnDelete: res.options.retainOnDelete, dependencies: res.dependencies });
    } catch (err) {
      step.error = asError(err);
      // Created but failed to initialize: the engine keeps it in state.
      const init = err instanceof ProviderError ? err.initFailure : undefined;
      if (init) {
        const { retainOnDelete } = res.options;
        this.state.set(res.urn, { urn: res.urn, type: res.type, name: res.name, id: init.id, inputs, outputs: init.properties, retainOnDelete, dependencies: res.dependencies, initErrors: init.reasons });
      }
    }
    return step;
  }

  /** The provider's delete of one resource, as a step; removed from state unless `removeFromState` is false (a replaced resource's old state). */
  async deleteOne(old: ResourceState, removeFromState = true): Promise<Step> {
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

  /** Resources in state that the program no longer declares. */
  orphans(resources: CapturedResource[]): ResourceState[] {
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
