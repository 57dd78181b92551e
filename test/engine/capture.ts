/**
 * Run a Pulumi program under `pulumi.runtime.setMocks` and record every resource
 * registration exactly as the engine would receive it, including the serialized
 * `__provider` text of dynamic resources. The recorded inputs are what an
 * engine-path test feeds to the dynamic-provider server (see harness.ts), so the
 * server runs the very text the real resource classes produce.
 */
import * as pulumi from "@pulumi/pulumi";

/** The engine's marker for a value that is not known yet (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

// Wire-format signatures (see @pulumi/pulumi/runtime/rpc.js).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";

export type PropertyMap = Record<string, unknown>;

export interface CapturedResource {
  /** e.g. `pulumi-nodejs:dynamic/image-actions:SnapshotFromBackup`. */
  type: string;
  name: string;
  /** The URN the mocks assigned: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
  urn: string;
  custom: boolean;
  /**
   * The inputs as the engine hands them to the dynamic provider: secrets
   * unwrapped (the dynamic provider does not accept secrets, so the engine
   * strips them), resource references replaced by their id (or URN), unknowns
   * left as {@link UNKNOWN}. `__provider` is the serialized provider text.
   */
  inputs: PropertyMap;
  /** The inputs as the program sent them to the engine (secret envelopes kept). */
  rawInputs: PropertyMap;
  /** Paths (`a`, `a.b`, `list[0]`) of inputs that were secret. */
  secretPaths: string[];
  /**
   * URNs of the resources this one depends on: its `dependsOn`, the resources
   * whose outputs its inputs use, and its parent, as the engine counts them
   * when it skips the dependents of a failed step.
   */
  dependencies: string[];
  /** Resource options the engine acts on that the stack helper models. */
  options: {
    importId?: string;
    parent?: string;
    deleteBeforeReplace?: boolean;
    /** Destroy and removal forget the resource without calling the provider's delete. */
    retainOnDelete?: boolean;
    ignoreChanges: string[];
  };
}

export interface CaptureOptions {
  /**
   * Run the program as `pulumi preview` does: outputs of resources that do not
   * exist yet are unknown, so inputs built from them arrive as {@link UNKNOWN}.
   */
  preview?: boolean;
  project?: string;
  stack?: string;
  /** Program configuration for `new pulumi.Config()`, namespaced keys (`digitalocean:token`). */
  config?: Record<string, string>;
  /** Keys of `config` that are secrets (`config.requireSecret` then yields a secret Output). */
  secretConfigKeys?: string[];
  /**
   * Outputs the mocked engine returns for a registration; default: the inputs
   * (and `id` `<name>-id`, unknown in preview). Return `undefined` to keep the
   * default. Use it to give a resource outputs that another resource consumes.
   */
  newResource?: (args: pulumi.runtime.MockResourceArgs) => { id?: string; state?: PropertyMap } | undefined;
  /**
   * Play the engine while the program runs: called for each registration (as
   * the provider will receive it) before the program gets the resource's
   * outputs, and what it returns becomes those outputs. An engine-path test
   * runs the resource's step here, so a resource consuming another's output
   * sees the real value, as under `pulumi up`. Takes precedence over newResource.
   */
  register?: (res: CapturedResource) => Promise<{ id?: string; state?: PropertyMap } | undefined>;
}

export interface Capture<T = unknown> {
  resources: CapturedResource[];
  /** The value the program function returned, with outputs resolved where known. */
  result: T;
  /** The captured resource with this name; throws if there is none or several. */
  byName(name: string): CapturedResource;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getObject(): { toJavaScript(): PropertyMap } | undefined;
  getImportid(): string;
  getParent(): string;
  getDeletebeforereplace(): boolean;
  getRetainondelete(): boolean | undefined;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(callback: (value: { getUrnsList(): string[] }) => void): void };
}
interface RegisterResponse {
  getUrn(): string;
}
type Callback = (err: unknown, resp?: RegisterResponse) => void;
interface MockMonitorLike {
  registerResource(req: RegisterRequest, cb: Callback): Promise<void>;
  newUrn(parent: string, type: string, name: string): string;
}

// waitForRPCs is not in the public typings but is what the SDK itself awaits
// before a program exits; it drains every pending registration.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as {
  waitForRPCs(): Promise<void>;
  getMonitor(): unknown;
};

/**
 * Run `program` against mocks and return the registrations. Each call resets
 * the runtime (setMocks replaces the monitor and clears per-run state), so
 * several captures in one jest file are independent. Captures must not run
 * concurrently: the runtime state is process-global.
 */
export async function capture<T>(program: () => T | Promise<T>, options: CaptureOptions = {}): Promise<Capture<Awaited<T>>> {
  const preview = options.preview ?? false;
  // Registrations seen by the monitor, by type and name, for options.register.
  const pending = new Map<string, CapturedResource>();
  pulumi.runtime.setAllConfig(options.config ?? {}, options.secretConfigKeys ?? []);
  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        const registration = pending.get(`${args.type}::${args.name}`);
        const custom = options.register && registration ? await options.register(registration) : options.newResource?.(args);
        const state = { ...(args.inputs as PropertyMap), ...(custom?.state ?? {}) };
        const id = custom?.id ?? (preview ? undefined : `${args.name}-id`);
        return { id, state };
      },
      call(args) {
        return args.inputs as PropertyMap;
      },
    },
    options.project ?? "project",
    options.stack ?? "stack",
    preview,
  );

  const resources: CapturedResource[] = [];
  const monitor = settings.getMonitor() as MockMonitorLike;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const rawInputs = req.getObject()?.toJavaScript() ?? {};
    const secretPaths: string[] = [];
    const registration: CapturedResource = {
      type: req.getType(),
      name: req.getName(),
      urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
      custom: req.getCustom(),
      inputs: toProviderInputs(rawInputs, "", secretPaths) as PropertyMap,
      rawInputs,
      secretPaths,
      dependencies: dependenciesOf(req),
      options: {
        importId: req.getImportid() || undefined,
        parent: req.getParent() || undefined,
        deleteBeforeReplace: req.getDeletebeforereplace() || undefined,
        retainOnDelete: req.getRetainondelete() || undefined,
        ignoreChanges: req.getIgnorechangesList(),
      },
    };
    pending.set(`${registration.type}::${registration.name}`, registration);
    return register(req, (err, resp) => {
      if (!err && resp) resources.push({ ...registration, urn: resp.getUrn() });
      cb(err, resp);
    });
  };

  const returned = await program();
  await settings.waitForRPCs();
  const result = (await resolveOutputs(returned)) as Awaited<T>;
  await settings.waitForRPCs();

  return {
    resources,
    result,
    byName(name: string) {
      const found = resources.filter((r) => r.name === name);
      if (found.length !== 1) {
        throw new Error(`expected one captured resource named "${name}", found ${found.length} (have: ${resources.map((r) => r.name).join(", ")})`);
      }
      return found[0];
    },
  };
}

function dependenciesOf(req: RegisterRequest): string[] {
  const urns = new Set(req.getDependenciesList());
  req.getPropertydependenciesMap().forEach((value) => value.getUrnsList().forEach((urn) => urns.add(urn)));
  if (req.getParent()) urns.add(req.getParent());
  return [...urns];
}

/** An Output's value; {@link UNKNOWN} when it is not known (preview), where `apply` would never run. */
async function resolveOutputs(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    // isKnown and promise() are the SDK's own (internal) accessors; apply skips unknowns.
    const output = value as unknown as { isKnown: Promise<boolean>; promise(withUnknowns?: boolean): Promise<unknown> };
    return (await output.isKnown) ? output.promise() : UNKNOWN;
  }
  return value;
}

/**
 * What the engine sends a provider that accepts neither secrets nor resource
 * references (the dynamic provider's configure answers acceptSecrets=false):
 * secrets become their plain value, resource references their id.
 */
export function toProviderInputs(value: unknown, path = "", secretPaths: string[] = []): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => toProviderInputs(v, `${path}[${i}]`, secretPaths));
  }
  if (value !== null && typeof value === "object") {
    const obj = value as PropertyMap;
    if (obj[SIG_KEY] === SECRET_SIG) {
      secretPaths.push(path);
      return toProviderInputs(obj.value, path, []);
    }
    if (obj[SIG_KEY] === RESOURCE_SIG) {
      return typeof obj.id === "string" && obj.id !== "" ? obj.id : obj.urn;
    }
    const out: PropertyMap = {};
    for (const [k, v] of Object.entries(obj)) {
      out[k] = toProviderInputs(v, path ? `${path}.${k}` : k, secretPaths);
    }
    return out;
  }
  return value;
}
