/**
 * Proves the engine-path harness itself, with a self-contained fixture provider
 * (no dependency on the package's resources): capture → packed package in a
 * scratch program folder → the real dynamic-provider server over gRPC.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  capture,
  CheckFailedError,
  loadFromPackage,
  EngineStack,
  PACKAGE_NAME,
  preparePackage,
  ProviderError,
  startDynamicProvider,
  StepsFailedError,
  UNKNOWN,
  type DynamicProviderServer,
  type PreparedPackage,
} from "./harness";

interface FixtureInputs {
  name: string;
  size?: number;
  fail?: string;
  failAfterCreate?: boolean;
}

// Everything the methods use is inside them: the serialized text stays small
// and `require` runs in the server, resolving from its working directory.
const fixtureProvider: pulumi.dynamic.ResourceProvider<FixtureInputs> & { region?: string; token?: string } = {
  async configure(req) {
    this.region = req.config.get("digitalocean:region");
    this.token = req.config.get("digitalocean:token");
  },
  async check(_olds, news) {
    const failures = [];
    if (typeof news.size === "number" && news.size > 10) failures.push({ property: "size", reason: "size must be at most 10" });
    const name = typeof news.name === "string" ? news.name.trim() : news.name;
    return { inputs: { ...news, name }, failures };
  },
  async diff(_id, olds, news) {
    console.error(`fixture diff news=${JSON.stringify(news)}`);
    const changed = Object.keys(news).filter((k) => k !== "__provider" && JSON.stringify(news[k as keyof FixtureInputs]) !== JSON.stringify(olds[k]));
    return { changes: changed.length > 0, replaces: changed.filter((k) => k === "name") };
  },
  async create(inputs) {
    if (inputs.fail) throw new Error(`fixture refused: ${inputs.fail}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require("pulumi-digitalocean-image-actions/package.json") as { name: string; version: string };
    const id = `fx-${inputs.name}`;
    console.log(`fixture created ${id}`);
    const outs = { ...inputs, packageName: pkg.name, packageVersion: pkg.version, region: this.region, tokenLength: this.token?.length };
    if (inputs.failAfterCreate) throw Object.assign(new Error(`fixture ${id} created but not ready`), { id, properties: outs, reasons: ["not ready"] });
    return { id, outs };
  },
  async read(id, props) {
    if (id.endsWith("-gone")) return { id: "", props: {} };
    return { id, props: { ...props, readAt: "now" } };
  },
  async update(_id, olds, news) {
    return { outs: { ...olds, ...news, updated: true } };
  },
  async delete(id) {
    console.log(`fixture deleted ${id}`);
  },
};

class Fixture extends pulumi.dynamic.Resource {
  declare readonly packageName: pulumi.Output<string>;
  constructor(name: string, args: { [K in keyof FixtureInputs]: pulumi.Input<FixtureInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(fixtureProvider, name, { packageName: undefined, packageVersion: undefined, region: undefined, ...args }, opts, "fixture", "Fixture");
  }
}

const TYPE = "pulumi-nodejs:dynamic/fixture:Fixture";
const config = { "digitalocean:region": "ams3", "digitalocean:token": "dop_v1_not_a_real_token" };

let pkg: PreparedPackage;
let server: DynamicProviderServer;

beforeAll(async () => {
  pkg = await preparePackage();
  server = await startDynamicProvider({ cwd: pkg.dir, config, secretConfigKeys: ["digitalocean:token"] });
}, 120_000);

afterAll(async () => {
  await server?.close();
});

beforeEach(() => server.clearLogs());

describe("capture", () => {
  it("records type, name, URN and the serialized __provider as the engine receives them", async () => {
    const { resources, byName } = await capture(() => {
      new Fixture("a", { name: "alpha", size: 3 });
    });
    expect(resources).toHaveLength(1);
    const a = byName("a");
    expect(a.type).toBe(TYPE);
    expect(a.urn).toBe(`urn:pulumi:stack::project::${TYPE}::a`);
    expect(a.inputs).toEqual({ name: "alpha", size: 3, __provider: expect.any(String) });
    expect(a.inputs.__provider).toContain('require("pulumi-digitalocean-image-actions/package.json")');
    expect(a.inputs.__provider).not.toContain(config["digitalocean:token"]);
  });

  it("unwraps secrets for the provider and remembers where they were", async () => {
    const { byName } = await capture(() => {
      new Fixture("s", { name: pulumi.secret("hidden") });
    });
    const s = byName("s");
    expect(s.inputs.name).toBe("hidden");
    expect(s.secretPaths).toEqual(["name"]);
    expect(s.rawInputs.name).toEqual({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hidden" });
  });

  it("in preview, inputs from outputs not known yet are the unknown sentinel; captures are independent", async () => {
    const preview = await capture(
      () => {
        const first = new Fixture("first", { name: "one" });
        new Fixture("second", { name: first.packageName });
      },
      { preview: true },
    );
    expect(preview.byName("second").inputs.name).toBe(UNKNOWN);

    const up = await capture(
      () => {
        const first = new Fixture("first", { name: "one" });
        new Fixture("second", { name: first.packageName });
      },
      { newResource: (args) => (args.name === "first" ? { state: { packageName: "known" } } : undefined) },
    );
    expect(up.resources.map((r) => r.name)).toEqual(["first", "second"]);
    expect(up.byName("second").inputs.name).toBe("known");
  });
});

describe("dynamic-provider server over gRPC", () => {
  it("check: returns the provider's inputs (with __provider) and propagates failures with property and reason", async () => {
    const { byName } = await capture(() => {
      new Fixture("c", { name: "  padded  ", size: 11 });
    });
    const c = byName("c");
    const result = await server.check(c.urn, {}, c.inputs);
    expect(result.inputs).toEqual({ ...c.inputs, name: "padded" });
    expect(result.failures).toEqual([{ property: "size", reason: "size must be at most 10" }]);
  });

  it("create: the provider's require resolves the packed package through the scratch node_modules, and configure's config reached it", async () => {
    const { byName } = await capture(() => {
      new Fixture("made", { name: "made" });
    });
    const made = byName("made");
    const created = await server.create(made.urn, made.inputs);
    expect(created.id).toBe("fx-made");
    expect(created.properties).toMatchObject({
      name: "made",
      packageName: PACKAGE_NAME,
      packageVersion: pkg.version,
      region: "ams3",
      tokenLength: config["digitalocean:token"].length,
      __provider: made.inputs.__provider,
    });
    expect(fs.realpathSync(path.join(pkg.dir, "node_modules", PACKAGE_NAME))).not.toContain(path.resolve(__dirname, "..", ".."));
    expect(loadFromPackage<{ name: string }>(pkg, "./package.json").name).toBe(PACKAGE_NAME);
    await expect(server.waitForLog("fixture created fx-made")).resolves.toContain("fx-made");
  });

  it("create: an error thrown by the provider surfaces with its message; one carrying an id is an init failure", async () => {
    const { byName } = await capture(() => {
      new Fixture("bad", { name: "bad", fail: "quota exceeded" });
      new Fixture("half", { name: "half", failAfterCreate: true });
    });
    const bad = byName("bad");
    await expect(server.create(bad.urn, bad.inputs)).rejects.toThrow(new ProviderError("fixture refused: quota exceeded", "create", 2));

    const half = byName("half");
    const err = await server.create(half.urn, half.inputs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toBe("fixture fx-half created but not ready");
    expect((err as ProviderError).initFailure).toMatchObject({ id: "fx-half", reasons: ["not ready"], properties: { name: "half" } });
  });

  it("diff: replaces on a name change, no changes when equal, and the unknown sentinel in news reaches the provider", async () => {
    const { byName } = await capture(() => {
      new Fixture("d", { name: "before" });
    });
    const d = byName("d");
    const { id, properties } = await server.create(d.urn, d.inputs);

    expect(await server.diff(id, d.urn, properties, d.inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await server.diff(id, d.urn, properties, { ...d.inputs, name: "after" })).toEqual({ changes: true, replaces: ["name"], deleteBeforeReplace: false });

    const unknown = await server.diff(id, d.urn, properties, { ...d.inputs, name: UNKNOWN });
    expect(unknown.replaces).toEqual(["name"]);
    await expect(server.waitForLog(`"name":"${UNKNOWN}"`)).resolves.toBeDefined();
  });

  it("read / update / delete round-trip through the server", async () => {
    const { byName } = await capture(() => {
      new Fixture("rud", { name: "rud", size: 1 });
    });
    const r = byName("rud");
    const { id, properties } = await server.create(r.urn, r.inputs);

    const read = await server.read(id, r.urn, properties, r.inputs);
    expect(read).toMatchObject({ id, properties: { readAt: "now", __provider: r.inputs.__provider } });
    expect((await server.read("fx-gone", r.urn, properties)).id).toBe("");

    const updated = await server.update(id, r.urn, properties, { ...r.inputs, size: 2 }, r.inputs);
    expect(updated).toMatchObject({ size: 2, updated: true, __provider: r.inputs.__provider });

    await server.delete(id, r.urn, updated);
    await expect(server.waitForLog(`fixture deleted ${id}`)).resolves.toBeDefined();
  });
});

describe("EngineStack", () => {
  const program = (name: string, size: number) => () => {
    new Fixture("res", { name, size });
  };

  it("models preview, up (create, update, replace, delete), refresh and destroy", async () => {
    const stack = new EngineStack(server);

    const v1 = await capture(program("one", 1), { preview: true });
    expect((await stack.preview(v1.resources)).map((s) => s.op)).toEqual(["create"]);
    expect(stack.state.size).toBe(0);
    expect(server.logs().stdout).not.toContain("fixture created");

    await stack.up((await capture(program("one", 1))).resources);
    expect(stack.get("res")).toMatchObject({ id: "fx-one", outputs: { region: "ams3" } });

    const same = await stack.up((await capture(program("one", 1))).resources);
    expect(same.map((s) => s.op)).toEqual(["same"]);

    const update = await stack.up((await capture(program("one", 2))).resources);
    expect(update.map((s) => s.op)).toEqual(["update"]);
    expect(stack.get("res").outputs).toMatchObject({ size: 2, updated: true });

    const replace = await stack.up((await capture(program("two", 2))).resources);
    expect(replace.map((s) => s.op)).toEqual(["replace"]);
    expect(stack.get("res").id).toBe("fx-two");
    await server.waitForLog("fixture deleted fx-one");

    await stack.refresh();
    expect(stack.get("res").outputs.readAt).toBe("now");

    await stack.destroy();
    expect(stack.state.size).toBe(0);
    await server.waitForLog("fixture deleted fx-two");
  });

  it("stops on check failures; a failing create rejects up but keeps the results of the steps before it", async () => {
    const stack = new EngineStack(server);
    await expect(stack.up((await capture(program("big", 11))).resources)).rejects.toThrow(CheckFailedError);

    const mixed = await capture(() => {
      new Fixture("ok", { name: "ok" });
      new Fixture("no", { name: "no", fail: "nope" });
    });
    const err = await stack.up(mixed.resources).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepsFailedError);
    expect((err as Error).message).toBe("create no: fixture refused: nope");
    expect([...stack.state.values()].map((r) => r.name)).toEqual(["ok"]);
  });

  describe("after a failed step, as the engine", () => {
    /** In state before: `old` (which `upd` depends on), `extra`, `base` and `upd`. */
    async function stackBefore(): Promise<EngineStack> {
      const stack = new EngineStack(server);
      await stack.up(
        (
          await capture(() => {
            const old = new Fixture("old", { name: "old" });
            new Fixture("extra", { name: "extra" });
            new Fixture("base", { name: "base", size: 1 });
            new Fixture("upd", { name: "upd" }, { dependsOn: [old] });
          })
        ).resources,
      );
      return stack;
    }
    /** Drops `old` and `extra`; `bad` fails, `child` depends on it, `base` changes, `upd`'s replacement fails. */
    const next = () =>
      capture(() => {
        const bad = new Fixture("bad", { name: "bad", fail: "nope" });
        new Fixture("base", { name: "base", size: 2 });
        new Fixture("child", { name: "child" }, { dependsOn: [bad] });
        new Fixture("upd", { name: "upd2", fail: "again" });
      });
    const names = (stack: EngineStack) => [...stack.state.values()].map((r) => r.name).sort();

    it("by default starts no step after the first failure and deletes nothing, and fails", async () => {
      const stack = await stackBefore();

      const err = await stack.up((await next()).resources).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(StepsFailedError);
      expect((err as StepsFailedError).steps.map((s) => [s.op, s.name, s.error?.message])).toEqual([["create", "bad", "fixture refused: nope"]]);
      expect(stack.get("base").outputs.size).toBe(1);
      expect(names(stack)).toEqual(["base", "extra", "old", "upd"]);
    });

    it("with continueOnError goes on, skipping the failed steps' dependents and keeping what a failed resource depends on, and fails", async () => {
      const stack = await stackBefore();

      const err = await stack.up((await next()).resources, { continueOnError: true }).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(StepsFailedError);
      expect((err as StepsFailedError).steps.map((s) => [s.op, s.name, s.skipped ?? false, s.error?.message])).toEqual([
        ["create", "bad", false, "fixture refused: nope"],
        ["update", "base", false, undefined],
        ["replace", "upd", false, "fixture refused: again"],
        // Registered once `bad` has answered, so after `upd`.
        ["create", "child", true, undefined],
        ["delete", "extra", false, undefined],
      ]);
      expect(stack.get("base").outputs.size).toBe(2);
      // `old` stays: the failed replacement leaves `upd` as it was, depending on it.
      expect(names(stack)).toEqual(["base", "old", "upd"]);
    });
  });

  it("refresh drops a resource whose read reports it gone", async () => {
    const stack = new EngineStack(server);
    await stack.up((await capture(program("x-gone", 1))).resources);
    const steps = await stack.refresh();
    expect(steps.map((s) => s.op)).toEqual(["delete"]);
    expect(stack.state.size).toBe(0);
  });

  it("import reproduces the engine: read gets no properties, so the server cannot load the provider", async () => {
    const stack = new EngineStack(server);
    const { byName } = await capture(() => {
      new Fixture("imp", { name: "imp" }, { import: "fx-imp" });
    });
    const imp = byName("imp");
    expect(imp.options.importId).toBe("fx-imp");
    await expect(stack.import(imp)).rejects.toThrow("code must be a string, not undefined");
  });
});

describe("resolution and process lifetime", () => {
  it("a server started outside a program folder cannot resolve the package; close() kills it", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "engine-empty-"));
    const outside = await startDynamicProvider({ cwd: empty, config });
    try {
      const { byName } = await capture(() => {
        new Fixture("lost", { name: "lost" });
      });
      const lost = byName("lost");
      await expect(outside.create(lost.urn, lost.inputs)).rejects.toThrow(`Cannot find module '${PACKAGE_NAME}/package.json'`);
    } finally {
      await outside.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
    expect(outside.exited()).toBeDefined();
    expect(() => process.kill(outside.pid, 0)).toThrow();
  });
});
