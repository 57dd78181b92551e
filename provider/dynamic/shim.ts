import type * as pulumi from "@pulumi/pulumi";
import type { ResourceKind, StackConfig } from "./index";

/**
 * The object Pulumi serializes into every resource's state as `__provider`.
 * It holds no implementation and no secret: each method loads the installed
 * package at call time, so the state stays about a kilobyte, and a resource
 * created by an older version is updated and deleted by the code installed now.
 * `configure` receives the stack config (token included) in the provider
 * process and keeps it in memory only.
 *
 * Frozen wire format: stacks keep this text for the life of each resource, and
 * refresh and destroy run it against whatever version is installed then. What
 * it calls (`captureConfig`, `handlers[kind].check/diff/create/read/update/destroy`
 * with these arguments) must keep working in every later release; see
 * test/fixtures/shim-protocol/README.md before changing either side.
 */
interface Shim extends pulumi.dynamic.ResourceProvider {
  stackConfig?: StackConfig;
}

/** @internal The provider object a resource class registers with. */
export function shimFor(kind: ResourceKind): pulumi.dynamic.ResourceProvider {
  const shim: Shim = {
    async configure(req) {
      this.stackConfig = load().captureConfig(req.config);
    },
    check: (olds, news) => load().handlers[kind].check(olds, news),
    diff: (id, olds, news) => load().handlers[kind].diff(id, olds, news),
    async create(inputs) {
      return load().handlers[kind].create(inputs, this.stackConfig);
    },
    async read(id, props) {
      return load().handlers[kind].read(id, props, this.stackConfig);
    },
    async update(id, olds, news) {
      return load().handlers[kind].update(id, olds, news, this.stackConfig);
    },
    async delete(id, props) {
      return load().handlers[kind].destroy(id, props, this.stackConfig);
    },
  };
  return shim;
}

function load(): typeof import("./index") {
  // Resolved from the program's node_modules when Pulumi calls the provider.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("pulumi-digitalocean-image-actions/dynamic");
}
