/**
 * Start @pulumi/pulumi's dynamic-provider gRPC server (what the CLI runs as the
 * `pulumi-resource-pulumi-nodejs` plugin) and talk to it as the engine does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import { REPO_ROOT } from "./package";
import type { PropertyMap } from "./capture";

// google-protobuf is @pulumi/pulumi's dependency, not ours: load the copy its
// generated stubs use.
const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const structpb = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [pulumiDir] })) as {
  Struct: typeof Struct;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const statuspb = require("@pulumi/pulumi/proto/status_pb") as {
  Status: { deserializeBinary(b: Uint8Array): { getDetailsList(): { getTypeName(): string; getValue_asU8(): Uint8Array }[] } };
};

export const SERVER_ENTRY = path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");
// From the sources: tsc does not copy it when the harness is compiled to build/.
const WATCHDOG = path.join(REPO_ROOT, "test", "engine", "parent-watchdog.cjs");
const SECRET_SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

export interface CheckFailure {
  property: string;
  reason: string;
}
export interface CheckResult {
  inputs: PropertyMap;
  failures: CheckFailure[];
}
export interface DiffResult {
  /** true: DIFF_SOME, false: DIFF_NONE, undefined: DIFF_UNKNOWN (the engine then compares inputs itself). */
  changes: boolean | undefined;
  replaces: string[];
  deleteBeforeReplace: boolean;
}
export interface CreateResult {
  id: string;
  properties: PropertyMap;
}
export interface ReadResult {
  /** "" when the provider reports the resource gone. */
  id: string;
  properties: PropertyMap;
  /** Present when the provider's read returned explicit inputs. */
  inputs?: PropertyMap;
}

/** A failed call: `message` is the provider's error message, without the gRPC status prefix. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly code: grpc.status,
    /** create/update: the provider threw an error carrying `id` (resource exists but failed to initialize). */
    readonly initFailure?: { id: string; properties: PropertyMap; reasons: string[] },
  ) {
    super(message);
    this.name = "ProviderError";
  }
}

export interface StartOptions {
  /** Working directory of the server: the program folder from preparePackage(). */
  cwd: string;
  /**
   * The server's entry file; default: this repository's @pulumi/pulumi's. A
   * program with its own SDK installed is served by that SDK's server, as the CLI does.
   */
  serverEntry?: string;
  /** Extra environment for the server process (inherits this process's env). */
  env?: Record<string, string | undefined>;
  /** Project name for unqualified config keys (PULUMI_NODEJS_PROJECT); default "project". */
  project?: string;
  /** If given, configure() is called right after start, as the engine does when it loads the plugin. */
  config?: Record<string, string>;
  secretConfigKeys?: string[];
  /** Deadline of each gRPC call; default 15 s. */
  callTimeoutMs?: number;
  /** How long to wait for the port line; default 15 s. */
  startTimeoutMs?: number;
}

export interface DynamicProviderServer {
  readonly port: number;
  readonly pid: number;
  configure(config: Record<string, string>, options?: { secretKeys?: string[] }): Promise<void>;
  check(urn: string, olds: PropertyMap, news: PropertyMap): Promise<CheckResult>;
  diff(id: string, urn: string, olds: PropertyMap, news: PropertyMap, oldInputs?: PropertyMap): Promise<DiffResult>;
  create(urn: string, inputs: PropertyMap, options?: { preview?: boolean }): Promise<CreateResult>;
  read(id: string, urn: string, properties: PropertyMap, inputs?: PropertyMap): Promise<ReadResult>;
  update(id: string, urn: string, olds: PropertyMap, news: PropertyMap, oldInputs?: PropertyMap): Promise<PropertyMap>;
  delete(id: string, urn: string, properties: PropertyMap, oldInputs?: PropertyMap): Promise<void>;
  /** Everything the server wrote since start (or clearLogs): what the CLI shows as diagnostics. */
  logs(): { stdout: string; stderr: string };
  clearLogs(): void;
  /** Resolves once stdout+stderr match `pattern` (logs travel on a pipe, apart from the gRPC reply). */
  waitForLog(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Exit code/signal once the process has exited, else undefined. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Closes the channel and kills the process; safe to call twice. */
  close(): Promise<void>;
}

const toStruct = (obj: PropertyMap): Struct => structpb.Struct.fromJavaScript(obj as Parameters<typeof Struct.fromJavaScript>[0]);
const fromStruct = (s: Struct | undefined): PropertyMap => (s ? (s.toJavaScript() as PropertyMap) : {});

/**
 * Spawn `node @pulumi/pulumi/cmd/dynamic-provider/index.js <engine>` in `cwd`,
 * read its port from the first stdout line and connect. The engine address
 * argument is required by the server but only used for logging, so a dummy is
 * passed. A watchdog preloaded into the child exits it when this process dies,
 * so a crashed test run leaves no server behind.
 */
export async function startDynamicProvider(options: StartOptions): Promise<DynamicProviderServer> {
  const callTimeoutMs = options.callTimeoutMs ?? 15_000;
  const child = spawn(process.execPath, ["--require", WATCHDOG, options.serverEntry ?? SERVER_ENTRY, "127.0.0.1:0"], {
    cwd: options.cwd,
    env: { ...process.env, PULUMI_NODEJS_PROJECT: options.project ?? "project", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  child.stdout.setEncoding("utf8").on("data", (d: string) => ((stdout += d), notify()));
  child.stderr.setEncoding("utf8").on("data", (d: string) => ((stderr += d), notify()));
  const exited = new Promise<void>((resolve) =>
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      notify();
      resolve();
    }),
  );

  let port: number;
  try {
    port = await waitFor(
      () => {
        if (exit) throw new Error(`dynamic-provider server exited (${exit.code ?? exit.signal}) before listening:\n${stderr}`);
        const m = /^(\d+)\r?\n/.exec(stdout);
        return m ? Number(m[1]) : undefined;
      },
      listeners,
      options.startTimeoutMs ?? 15_000,
      "dynamic-provider server to print its port",
    );
  } catch (err) {
    await kill(child, exited);
    throw err;
  }
  stdout = stdout.replace(/^\d+\r?\n/, "");

  const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  type Method = (req: unknown, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, resp: unknown) => void) => unknown;
  const call = <Resp>(method: string, req: unknown): Promise<Resp> =>
    new Promise<Resp>((resolve, reject) => {
      const fn = (client as unknown as Record<string, Method>)[method].bind(client);
      fn(req, new grpc.Metadata(), { deadline: Date.now() + callTimeoutMs }, (err, resp) => {
        if (err) reject(toProviderError(method, err));
        else resolve(resp as Resp);
      });
    });

  const server: DynamicProviderServer = {
    port,
    pid: child.pid ?? -1,

    async configure(config, opts = {}) {
      // The server reads `args` (a Struct, secrets possibly wrapped); the
      // engine also sends the string map `variables`. Both carry the whole
      // stack config with namespaced keys.
      const secret = new Set(opts.secretKeys ?? []);
      const args: PropertyMap = {};
      for (const [k, v] of Object.entries(config)) args[k] = secret.has(k) ? { ...SECRET_SIG, value: v } : v;
      const req = new provproto.ConfigureRequest();
      req.setArgs(toStruct(args));
      const vars = req.getVariablesMap();
      for (const [k, v] of Object.entries(config)) vars.set(k, v);
      req.setAcceptsecrets(true);
      req.setAcceptresources(true);
      await call("configure", req);
    },

    async check(urn, olds, news) {
      const req = new provproto.CheckRequest();
      req.setUrn(urn);
      req.setOlds(toStruct(olds));
      req.setNews(toStruct(news));
      const resp = await call<provproto.CheckResponse>("check", req);
      return {
        inputs: fromStruct(resp.getInputs()),
        failures: resp.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },

    async diff(id, urn, olds, news, oldInputs) {
      const req = new provproto.DiffRequest();
      req.setId(id);
      req.setUrn(urn);
      req.setOlds(toStruct(olds));
      req.setNews(toStruct(news));
      if (oldInputs) req.setOldInputs(toStruct(oldInputs));
      const resp = await call<provproto.DiffResponse>("diff", req);
      const c = resp.getChanges();
      return {
        changes: c === provproto.DiffResponse.DiffChanges.DIFF_SOME ? true : c === provproto.DiffResponse.DiffChanges.DIFF_NONE ? false : undefined,
        replaces: resp.getReplacesList(),
        deleteBeforeReplace: resp.getDeletebeforereplace(),
      };
    },

    async create(urn, inputs, opts = {}) {
      const req = new provproto.CreateRequest();
      req.setUrn(urn);
      req.setProperties(toStruct(inputs));
      req.setPreview(opts.preview ?? false);
      const resp = await call<provproto.CreateResponse>("create", req);
      return { id: resp.getId(), properties: fromStruct(resp.getProperties()) };
    },

    async read(id, urn, properties, inputs) {
      const req = new provproto.ReadRequest();
      req.setId(id);
      req.setUrn(urn);
      req.setProperties(toStruct(properties));
      if (inputs) req.setInputs(toStruct(inputs));
      const resp = await call<provproto.ReadResponse>("read", req);
      return {
        id: resp.getId(),
        properties: fromStruct(resp.getProperties()),
        ...(resp.hasInputs() ? { inputs: fromStruct(resp.getInputs()) } : {}),
      };
    },

    async update(id, urn, olds, news, oldInputs) {
      const req = new provproto.UpdateRequest();
      req.setId(id);
      req.setUrn(urn);
      req.setOlds(toStruct(olds));
      req.setNews(toStruct(news));
      if (oldInputs) req.setOldInputs(toStruct(oldInputs));
      const resp = await call<provproto.UpdateResponse>("update", req);
      return fromStruct(resp.getProperties());
    },

    async delete(id, urn, properties, oldInputs) {
      const req = new provproto.DeleteRequest();
      req.setId(id);
      req.setUrn(urn);
      req.setProperties(toStruct(properties));
      if (oldInputs) req.setOldInputs(toStruct(oldInputs));
      await call("delete", req);
    },

    logs: () => ({ stdout, stderr }),
    clearLogs() {
      stdout = "";
      stderr = "";
    },
    waitForLog(pattern, timeoutMs = 5_000) {
      const test = (s: string) => (typeof pattern === "string" ? s.includes(pattern) : pattern.test(s));
      return waitFor(() => (test(stdout + stderr) ? stdout + stderr : undefined), listeners, timeoutMs, `server log matching ${String(pattern)}`);
    },
    exited: () => exit,
    async close() {
      client.close();
      await kill(child, exited);
    },
  };

  if (options.config) {
    try {
      await server.configure(options.config, { secretKeys: options.secretConfigKeys });
    } catch (err) {
      await server.close();
      throw err;
    }
  }
  return server;
}

function waitFor<T>(probe: () => T | undefined, listeners: Set<() => void>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const check = () => {
      try {
        const v = probe();
        if (v !== undefined) done(() => resolve(v));
      } catch (err) {
        done(() => reject(err));
      }
    };
    const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
    const done = (settle: () => void) => {
      clearTimeout(timer);
      listeners.delete(check);
      settle();
    };
    listeners.add(check);
    check();
  });
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
  await exited;
  clearTimeout(timer);
  child.stdin?.destroy();
}

function toProviderError(method: string, err: grpc.ServiceError): ProviderError {
  let initFailure: ProviderError["initFailure"];
  const [details] = err.metadata?.get("grpc-status-details-bin") ?? [];
  if (details instanceof Buffer) {
    for (const any of statuspb.Status.deserializeBinary(details).getDetailsList()) {
      if (any.getTypeName() === "pulumirpc.ErrorResourceInitFailed") {
        const f = provproto.ErrorResourceInitFailed.deserializeBinary(any.getValue_asU8());
        initFailure = { id: f.getId(), properties: fromStruct(f.getProperties()), reasons: f.getReasonsList() };
      }
    }
  }
  return new ProviderError(err.details || err.message, method, err.code, initFailure);
}
