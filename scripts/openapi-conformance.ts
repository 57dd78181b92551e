/**
 * `npm run conformance -- <openapi-file>`: checks the simulator's answers and the
 * client's requests against DigitalOcean's OpenAPI description.
 *
 * The description is not part of this repository (the tests must not need it):
 * pass the file you have, a single bundled YAML or JSON whose $refs are all local
 * (`#/components/...`), such as `@redocly/cli bundle` makes of DigitalOcean's
 * `specification/DigitalOcean-public.v2.yaml`. Schemas may refer to themselves
 * or to each other in a loop. The script starts the simulator from `dist/` (seeded from
 * examples/seed.json), calls every endpoint it serves that the description
 * covers (the token's account included), successes and refusals (400, 401,
 * 403, 404, 422, 429, 5xx) alike, and
 * checks each answer's status, declared headers and body. It then drives the real
 * DigitalOceanClient through a recording proxy and checks each request's path,
 * query and body.
 *
 * Exit code: 0 when everything conforms, 1 on any mismatch (or a crash), 2 when
 * the file is missing or is not an OpenAPI 3.0 description.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import Ajv from "ajv";
import type { ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import { load as loadYaml } from "js-yaml";
import { request } from "undici";
import type { Simulator, SimulatorOptions } from "../provider/simulator";

type SimulatorModule = typeof import("../provider/simulator");
type ClientModule = typeof import("../provider/client/client");
type Method = "GET" | "PUT" | "POST" | "DELETE";
type Schema = Record<string, unknown>;

/** Compiled to build/scripts/, two levels below the repository root. */
const REPO_ROOT = path.resolve(__dirname, "..", "..");
const TOKEN = "dop_v1_sim_conformance";
/** A custom-scoped token that may read images but not its account. */
const SCOPED_TOKEN = "dop_v1_sim_conformance_scoped";
const USAGE = "npm run conformance -- <openapi-file>";
const METHODS = ["get", "put", "post", "delete", "patch"];
/** The check group of the client's requests; every other group holds simulator answers. */
const CLIENT = "client requests";

/** Where a mismatch is in the description, and what the validator said. */
interface Finding {
  at: string;
  message: string;
}

/** One request checked: the simulator's answer to it, or the client's request itself. */
interface Exchange {
  method: string;
  target: string;
  status?: number;
  label?: string;
}

type Mismatch = Exchange & Finding;

interface Group {
  checked: number;
  mismatches: Mismatch[];
}

class UsageError extends Error {}

// ---------------------------------------------------------------- description

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema: Schema;
}

interface Content {
  schema: Schema;
}

/** A response or a request body: what it may carry. */
interface Payload {
  content?: Record<string, Content>;
}

interface ResponseDef extends Payload {
  headers?: Record<string, { schema: Schema }>;
}

interface Operation {
  method: string;
  template: string;
  pointer: string;
  pattern: RegExp;
  parameters: Parameter[];
  responses: Record<string, ResponseDef>;
  requestBody?: Payload & { required?: boolean };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const escapeSegment = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");
const unescapeSegment = (s: string) => decodeURIComponent(s).replace(/~1/g, "/").replace(/~0/g, "~");

/** The value at a local JSON pointer (`#/components/schemas/image`) of the raw document. */
function lookup(doc: unknown, pointer: string): unknown {
  if (!pointer.startsWith("#")) throw new UsageError(`a $ref points outside the file (${pointer}); bundle the description into one file first`);
  let node = doc;
  for (const segment of pointer.slice(1).split("/").filter(Boolean)) {
    node = isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[unescapeSegment(segment)] : undefined;
    if (node === undefined) throw new UsageError(`the $ref ${pointer} points at nothing`);
  }
  return node;
}

/**
 * Where DigitalOcean's description contradicts its own prose and examples, the
 * reading they support. Each applies only while the quirk is there and is printed,
 * so a fixed description simply stops needing it.
 */
function patchQuirks(doc: Record<string, unknown>): string[] {
  return [...wrapBareActions(doc), ...acceptPagination(doc)];
}

type RawOperation = { parameters?: { $ref?: string }[]; responses?: Record<string, { $ref?: string }> };
type RawResponse = { content?: Record<string, { schema?: Schema; example?: unknown }> };

/** Image-action answers declare the bare `action` schema, while their example (and DigitalOcean) wraps it: `{"action": ...}`. */
function wrapBareActions(doc: Record<string, unknown>): string[] {
  const responses = (doc.components as { responses?: Record<string, RawResponse> } | undefined)?.responses ?? {};
  return Object.entries(responses).flatMap(([name, response]) => {
    const media = response.content?.["application/json"];
    if (media?.schema?.$ref !== "#/components/schemas/action" || !isObject(media.example) || !("action" in media.example)) return [];
    media.schema = { type: "object", required: ["action"], properties: { action: media.schema } };
    return [`#/components/responses/${name} declares a bare action, but its example wraps it: expecting {"action": ...}`];
  });
}

/** A GET answering a paginated list pages like every other list, even where it declares no page/per_page. */
function acceptPagination(doc: Record<string, unknown>): string[] {
  return Object.entries(doc.paths as Record<string, { get?: RawOperation }>).flatMap(([template, { get }]) => {
    const ok = get?.responses?.["200"]?.$ref;
    const schema = ok === undefined ? undefined : (lookup(doc, ok) as RawResponse).content?.["application/json"]?.schema;
    const paginated = (schema?.allOf as { $ref?: string }[] | undefined)?.some((s) => s.$ref === "#/components/schemas/pagination");
    if (!get || !paginated || get.parameters?.some((p) => p.$ref === "#/components/parameters/per_page")) return [];
    get.parameters = [...(get.parameters ?? []), { $ref: "#/components/parameters/per_page" }, { $ref: "#/components/parameters/page" }];
    return [`GET ${template} answers a paginated list but declares no page/per_page: accepting them`];
  });
}

/**
 * The URI under which the whole description is registered with Ajv: a schema
 * that refers to itself, directly or through others (DigitalOcean's `apiAgent`
 * lists agents), cannot be inlined, so where inlining would loop it refers to
 * the registered copy instead (`<DESCRIPTION_URI>#/components/schemas/apiAgent`).
 */
const DESCRIPTION_URI = "https://description.invalid/openapi.json";

/** A loaded description: its operations with $refs inlined (a recursive one referred to), and validation against their schemas. */
export class Spec {
  readonly operations: Operation[];
  readonly quirks: string[];
  private readonly ajv = new Ajv({
    allErrors: true,
    // OpenAPI schemas carry keywords JSON Schema lacks (example, discriminator, x-*), which strict mode refuses.
    strict: false,
    // DigitalOcean's tag pattern escapes ':' (`^[a-zA-Z0-9_\-\:]+$`), which a unicode RegExp refuses.
    unicodeRegExp: false,
    // Errors then carry the schema object holding the failing keyword, which names it in the file even behind a recursive $ref.
    verbose: true,
  });
  /** Inlined node -> pointer of the part of the file it came from, to name schema paths across $refs. */
  private readonly origins = new WeakMap<object, string>();
  private readonly resolved = new Map<string, unknown>();
  /** The $ref targets being inlined right now: meeting one again means the schema recurses. */
  private readonly inlining = new Set<string>();

  constructor(private readonly doc: Record<string, unknown>) {
    addFormats(this.ajv);
    this.quirks = patchQuirks(doc);
    // Not validated as a schema: it is an OpenAPI document, of which Ajv only ever reads the parts $refs point at.
    this.ajv.addSchema(this.asJsonSchema(doc, "#") as Schema, DESCRIPTION_URI, undefined, false);
    this.operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([template, item]) =>
      METHODS.filter((m) => isObject(item[m])).map((m) => this.operation(template, m, item)),
    );
  }

  private operation(template: string, method: string, item: Record<string, unknown>): Operation {
    const pointer = `#/paths/${escapeSegment(template)}/${method}`;
    const op = item[method] as Record<string, unknown>;
    const parameters = [...((item.parameters as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])];
    return {
      method: method.toUpperCase(),
      template,
      pointer,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "([^/]+)")}$`),
      parameters: this.inline(parameters, `${pointer}/parameters`) as Parameter[],
      responses: this.inline(op.responses, `${pointer}/responses`) as Record<string, ResponseDef>,
      requestBody: this.inline(op.requestBody, `${pointer}/requestBody`) as Operation["requestBody"],
    };
  }

  /**
   * The part of the file at `pointer`, $refs inlined; each target is inlined
   * once and shared. A $ref met again while its own target is being inlined
   * stays a $ref, to the registered description, which Ajv follows as deep as
   * the data goes.
   */
  private target(pointer: string): unknown {
    if (this.inlining.has(pointer)) {
      return this.remember({ $ref: `${DESCRIPTION_URI}${pointer}` }, pointer);
    }
    if (!this.resolved.has(pointer)) {
      this.inlining.add(pointer);
      try {
        this.resolved.set(pointer, this.inline(lookup(this.doc, pointer), pointer));
      } finally {
        this.inlining.delete(pointer);
      }
    }
    return this.resolved.get(pointer);
  }

  /** A copy of `value` with $refs inlined and OpenAPI 3.0 `nullable` turned into JSON Schema. */
  private inline(value: unknown, pointer: string): unknown {
    if (Array.isArray(value)) return this.remember(value.map((v, i) => this.inline(v, `${pointer}/${i}`)), pointer);
    if (!isObject(value)) return value;
    if (typeof value.$ref === "string") return this.target(value.$ref);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = this.inline(v, `${pointer}/${escapeSegment(key)}`);
    return this.remember(nullableToJsonSchema(out), pointer);
  }

  private remember<T extends object>(node: T, pointer: string): T {
    this.origins.set(node, pointer);
    return node;
  }

  /** The operation serving a concrete method and path, with its path parameters. */
  match(method: string, pathname: string): { op: Operation; params: Record<string, string> } | undefined {
    for (const op of this.operations) {
      const m = op.method === method ? op.pattern.exec(pathname) : null;
      if (!m) continue;
      const names = [...op.template.matchAll(/\{([^}]+)\}/g)].map((n) => n[1]);
      return { op, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
    }
    return undefined;
  }

  /** Mismatches of one answer: an undocumented status, a missing or malformed declared header, a body off its schema. */
  checkResponse(method: Method, pathname: string, status: number, headers: Record<string, string | string[] | undefined>, text: string): Finding[] {
    const found = this.match(method, pathname);
    if (!found) return [{ at: "#/paths", message: `no operation ${method} ${pathname} in the description` }];
    const { op } = found;
    // `default` stands for the errors not listed; a success must be documented as such.
    const code = String(status) in op.responses ? String(status) : status >= 400 && "default" in op.responses ? "default" : undefined;
    if (code === undefined) return [{ at: `${op.pointer}/responses`, message: `status ${status} is not documented (${Object.keys(op.responses).join(", ")})` }];
    const response = op.responses[code];
    const findings = Object.entries(response.headers ?? {}).flatMap(([name, header]) => {
      const value = headers[name.toLowerCase()];
      if (typeof value !== "string") return [{ at: this.pointerOf(header, ""), message: `header ${name} is missing` }];
      return this.validate(header.schema, coerce(value, header.schema), `header ${name}=${value}`);
    });
    return [...findings, ...this.checkBody(response, headers["content-type"], text, "body")];
  }

  /** Mismatches of one request: unknown operation, path or query parameters, and body. */
  checkRequest(method: string, target: string, contentType: string | undefined, text: string): Finding[] {
    const url = new URL(target, "http://request.invalid");
    const found = this.match(method, url.pathname);
    if (!found) return [{ at: "#/paths", message: `no operation ${method} ${url.pathname} in the description` }];
    const { op, params } = found;
    const findings = Object.entries(params).flatMap(([name, value]) => this.checkParameter(op, "path", name, value));
    for (const [name, value] of url.searchParams) findings.push(...this.checkParameter(op, "query", name, value));
    for (const p of op.parameters.filter((p) => p.in === "query" && p.required && !url.searchParams.has(p.name))) {
      findings.push({ at: this.pointerOf(p, ""), message: `required query parameter ${p.name} is missing` });
    }
    if (!op.requestBody) return text === "" ? findings : [...findings, { at: op.pointer, message: "a body was sent, but the operation declares none" }];
    if (text === "") return op.requestBody.required ? [...findings, { at: this.pointerOf(op.requestBody, ""), message: "the required body is missing" }] : findings;
    return [...findings, ...this.checkBody(op.requestBody, contentType, text, "request body")];
  }

  private checkParameter(op: Operation, place: string, name: string, value: string): Finding[] {
    const parameter = op.parameters.find((p) => p.in === place && p.name === name);
    if (!parameter) return [{ at: `${op.pointer}/parameters`, message: `${place} parameter ${name} is not documented` }];
    return this.validate(parameter.schema, coerce(value, parameter.schema), `${place} parameter ${name}=${value}`);
  }

  private checkBody(payload: Payload, contentType: string | string[] | undefined, text: string, what: string): Finding[] {
    const media = payload.content?.["application/json"];
    if (!media) return text === "" ? [] : [{ at: this.pointerOf(payload, ""), message: `${what} of ${text.length} bytes where none is documented` }];
    if (typeof contentType !== "string" || !/^application\/json\b/i.test(contentType)) {
      return [{ at: this.pointerOf(media, ""), message: `${what} has content-type ${String(contentType)}, not application/json` }];
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return [{ at: this.pointerOf(media, ""), message: `${what} is not JSON: ${JSON.stringify(text.slice(0, 80))}` }];
    }
    return this.validate(this.discriminated(media.schema, data), data, what);
  }

  /** The branch a discriminator's mapping picks for `data`; Ajv's own discriminator support has no `mapping`. */
  private discriminated(schema: Schema, data: unknown): Schema {
    const discriminator = schema.discriminator as { propertyName: string; mapping?: Record<string, string> } | undefined;
    const value = discriminator && isObject(data) ? data[discriminator.propertyName] : undefined;
    const pick = typeof value === "string" ? discriminator?.mapping?.[value] : undefined;
    return pick === undefined ? schema : (this.target(pick) as Schema);
  }

  private validate(schema: Schema, data: unknown, what: string): Finding[] {
    // Ajv caches by schema object, and inlined schemas are shared, so each compiles once.
    const validate = this.ajv.compile(schema);
    if (validate(data)) return [];
    return (validate.errors ?? []).map((e) => ({ at: this.pointerOfError(schema, e), message: `${what}${e.instancePath} ${describe(e)}` }));
  }

  /** Where the failing keyword is in the file: in the schema object holding it, else along Ajv's schema path from `root`. */
  private pointerOfError(root: object, e: ErrorObject): string {
    const holder = isObject(e.parentSchema) ? this.origins.get(e.parentSchema) : undefined;
    return holder === undefined ? this.pointerOf(root, e.schemaPath) : `${holder}/${escapeSegment(e.keyword)}`;
  }

  /** A copy of the description as JSON Schema (`nullable` turned into a type list), $refs left as they are, each node remembered where it is. */
  private asJsonSchema(value: unknown, pointer: string): unknown {
    if (Array.isArray(value)) return this.remember(value.map((v, i) => this.asJsonSchema(v, `${pointer}/${i}`)), pointer);
    if (!isObject(value)) return value;
    const out = Object.fromEntries(Object.entries(value).map(([key, v]) => [key, this.asJsonSchema(v, `${pointer}/${escapeSegment(key)}`)]));
    return this.remember(nullableToJsonSchema(out), pointer);
  }

  /** Ajv's schema path under `root` as a pointer into the file: the last node inlined from a $ref names it. */
  private pointerOf(root: object, schemaPath: string): string {
    let node: unknown = root;
    let at = this.origins.get(root) ?? "#";
    let rest: string[] = [];
    for (const segment of schemaPath.replace(/^#/, "").split("/").filter(Boolean)) {
      node = isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[unescapeSegment(segment)] : undefined;
      const origin = typeof node === "object" && node !== null ? this.origins.get(node) : undefined;
      if (origin !== undefined) [at, rest] = [origin, []];
      else rest.push(segment);
    }
    return [at, ...rest].join("/");
  }
}

/** OpenAPI 3.0 `nullable: true` adds null to the schema's `type` (and to its `enum`); JSON Schema says so with a type list. */
function nullableToJsonSchema(schema: Record<string, unknown>): Record<string, unknown> {
  // A boolean, not a schema: a property named "nullable" stays.
  if (typeof schema.nullable !== "boolean") return schema;
  const { nullable, ...rest } = schema;
  if (!nullable || typeof rest.type !== "string") return rest;
  return { ...rest, type: [rest.type, "null"], ...(Array.isArray(rest.enum) ? { enum: [...rest.enum, null] } : {}) };
}

/** A path, query or header value as the type its schema declares; left a string when it does not parse, so the schema refuses it. */
function coerce(value: string, schema: Schema): unknown {
  if ((schema.type === "integer" || schema.type === "number") && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (schema.type === "boolean" && (value === "true" || value === "false")) return value === "true";
  return value;
}

function describe(e: ErrorObject): string {
  const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
  return allowed ? `${e.message}: ${allowed.map((v) => JSON.stringify(v)).join(", ")}` : (e.message ?? e.keyword);
}

/** The description's path from the command line, or how to give it. */
function specArgument(args: string[]): string {
  if (args.length === 0 || args[0] === "") {
    throw new UsageError(`missing <openapi-file>, the path to DigitalOcean's OpenAPI description (a bundled YAML or JSON file). Run: ${USAGE}`);
  }
  return args[0];
}

/** Reads and parses the description, or says what is wrong with the file and how to fix it. */
export function loadSpec(file: string): Spec {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read <openapi-file> ${file}: ${(error as Error).message}. Pass the path of a readable OpenAPI file: ${USAGE}`);
  }
  let doc: unknown;
  try {
    doc = loadYaml(text);
  } catch (error) {
    throw new UsageError(`<openapi-file> ${file} is neither YAML nor JSON: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!isObject(doc) || typeof doc.openapi !== "string" || !doc.openapi.startsWith("3.0") || !isObject(doc.paths)) {
    throw new UsageError(`<openapi-file> ${file} is not an OpenAPI 3.0 description (no "openapi: 3.0.x" and "paths"). Pass DigitalOcean's: ${USAGE}`);
  }
  return new Spec(doc);
}

// ---------------------------------------------------------------- report

class Report {
  private readonly groups = new Map<string, Group>();

  /** One exchange checked, with what was wrong with it. */
  record(group: string, exchange: Exchange, findings: Finding[]): void {
    const g = this.group(group);
    g.checked++;
    g.mismatches.push(...findings.map((f) => ({ ...exchange, ...f })));
  }

  /** A mismatch that is not one checked exchange, such as a client call that failed. */
  fail(group: string, exchange: Exchange, finding: Finding): void {
    this.group(group).mismatches.push({ ...exchange, ...finding });
  }

  private group(name: string): Group {
    let group = this.groups.get(name);
    if (!group) this.groups.set(name, (group = { checked: 0, mismatches: [] }));
    return group;
  }

  /** Prints the groups, every mismatch and the summary line; returns the number of mismatches. */
  print(file: string): number {
    const all = [...this.groups.values()].flatMap((g) => g.mismatches);
    for (const [name, g] of this.groups) {
      const failed = g.mismatches.length > 0 ? `, ${g.mismatches.length} mismatch${g.mismatches.length === 1 ? "" : "es"}` : "";
      console.log(`${failed ? "FAIL" : "ok  "}  ${name.padEnd(22)} ${String(g.checked).padStart(3)} checked${failed}`);
    }
    if (all.length > 0) console.log("\nMismatches:");
    for (const m of all) {
      console.log(`  ${m.method} ${m.target}${m.status === undefined ? "" : ` -> ${m.status}`}${m.label ? ` (${m.label})` : ""}`);
      console.log(`    ${m.at}: ${m.message}`);
    }
    const answers = this.checked((name) => name !== CLIENT);
    const verdict = all.length === 0 ? "all conform" : `${all.length} mismatch${all.length === 1 ? "" : "es"}`;
    console.log(`\nconformance: ${answers} simulator answers and ${this.checked((name) => name === CLIENT)} client requests checked against ${file}: ${verdict}`);
    return all.length;
  }

  private checked(which: (name: string) => boolean): number {
    return [...this.groups].filter(([name]) => which(name)).reduce((sum, [, g]) => sum + g.checked, 0);
  }
}

// ---------------------------------------------------------------- simulator answers

interface CallOptions {
  body?: unknown;
  /** Sent as is, for bodies that are not JSON. */
  raw?: string;
  /** Null sends no Authorization header. */
  token?: string | null;
  label?: string;
}

/** Sends one request to a simulator and records the check of its answer under a group. */
type Call = (method: Method, target: string, options?: CallOptions) => Promise<unknown>;

function caller(spec: Spec, report: Report, sim: Simulator, group: string): Call {
  return async (method, target, options = {}) => {
    const token = options.token === undefined ? TOKEN : options.token;
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const headers: Record<string, string> = {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    };
    const answer = await request(`${sim.url}${target}`, { method, headers, body });
    const text = await answer.body.text();
    const findings = spec.checkResponse(method, new URL(target, sim.url).pathname, answer.statusCode, answer.headers, text);
    report.record(group, { method, target, status: answer.statusCode, label: options.label }, findings);
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
}

/** The id of the action in a `{"action": {...}}` answer. */
function actionId(answer: unknown): number {
  const id = isObject(answer) && isObject(answer.action) ? answer.action.id : undefined;
  if (typeof id !== "number") throw new Error(`expected an action in the answer, got ${JSON.stringify(answer)}`);
  return id;
}

async function checkRegions(call: Call): Promise<void> {
  await call("GET", "/v2/regions");
  await call("GET", "/v2/regions?page=2&per_page=5");
}

async function checkImages(call: Call): Promise<void> {
  for (const query of ["", "?private=true", "?type=distribution", "?type=application", "?tag_name=env:prod", "?page=2&per_page=2"]) {
    await call("GET", `/v2/images${query}`);
  }
  await call("GET", "/v2/images?per_page=abc", { label: "per_page not a number" });
  await call("GET", "/v2/images/100000010", { label: "snapshot" });
  await call("GET", "/v2/images/100000101", { label: "backup" });
  await call("GET", "/v2/images/94000001", { label: "public base image" });
  await call("GET", "/v2/images/999", { label: "unknown image" });
  await call("PUT", "/v2/images/100000010", { body: { name: "golden renamed", description: "conformance" } });
  await call("PUT", "/v2/images/100000010", { body: { distribution: "Ubuntu" } });
  await call("PUT", "/v2/images/100000010", { body: { name: 5 }, label: "name not a string" });
  await call("PUT", "/v2/images/100000010", { raw: "{not json", label: "malformed JSON" });
  await call("PUT", "/v2/images/999", { body: { name: "x" }, label: "unknown image" });
  await call("PUT", "/v2/images/94000001", { body: { name: "x" }, label: "public image" });
}

/** Starts a convert, a transfer and an action that errors; returns a convert's and the transfer's ids. */
async function checkImageActions(call: Call, sim: Simulator): Promise<{ convert: number; transfer: number }> {
  const actions = "/v2/images/100000010/actions";
  const convert = actionId(await call("POST", "/v2/images/100000101/actions", { body: { type: "convert" }, label: "convert a backup" }));
  const transfer = actionId(await call("POST", actions, { body: { type: "transfer", region: "sfo3" }, label: "transfer" }));
  sim.state.failNextAction(100000103);
  await call("POST", "/v2/images/100000103/actions", { body: { type: "convert" }, label: "convert that will error" });
  await call("POST", "/v2/images/100000101/actions", { body: { type: "convert" }, label: "convert already in progress" });
  for (const [region, label] of [["nyc3", "already there"], ["nyc2", "no image_transfer"], ["sfo1", "unavailable"], ["zz9", "unknown region"]]) {
    await call("POST", actions, { body: { type: "transfer", region }, label: `transfer: ${label}` });
  }
  await call("POST", actions, { body: { type: "transfer" }, label: "transfer without region" });
  await call("POST", actions, { body: { type: "resize" }, label: "unknown type" });
  await call("POST", actions, { body: { type: "convert" }, label: "convert a snapshot" });
  await call("POST", actions, { raw: "", label: "empty body" });
  await call("POST", "/v2/images/100000102/actions", { body: { type: "transfer", region: "sfo3" }, label: "transfer a backup" });
  await call("POST", "/v2/images/94000001/actions", { body: { type: "transfer", region: "sfo3" }, label: "public image" });
  await call("POST", "/v2/images/999/actions", { body: { type: "convert" }, label: "unknown image" });
  await call("GET", actions);
  await call("GET", "/v2/images/100000101/actions?page=1&per_page=1");
  await call("GET", `${actions}/${transfer}`);
  await call("GET", `${actions}/${convert}`, { label: "action of another image" });
  await call("GET", "/v2/images/999/actions", { label: "unknown image" });
  return { convert, transfer };
}

/** Reads actions in progress, lets them finish on the simulator's clock, and reads them done. */
async function checkActions(call: Call, sim: Simulator, ids: { convert: number; transfer: number }): Promise<void> {
  await call("GET", "/v2/actions", { label: "in progress" });
  await call("GET", "/v2/actions?page=2&per_page=2");
  await call("GET", `/v2/actions/${ids.convert}`, { label: "in progress" });
  await call("GET", "/v2/actions/1", { label: "unknown action" });
  // A transfer takes 120 s of DigitalOcean time.
  await sim.clock.sleep(150_000);
  await call("GET", "/v2/actions", { label: "done" });
  await call("GET", `/v2/actions/${ids.transfer}`, { label: "done" });
}

async function checkDroplets(call: Call): Promise<void> {
  await call("GET", "/v2/droplets");
  await call("GET", "/v2/droplets/3164494");
  await call("GET", "/v2/droplets/1", { label: "unknown droplet" });
  for (const droplet of [3164494, 3164495]) {
    await call("GET", `/v2/droplets/${droplet}/backups`);
    await call("GET", `/v2/droplets/${droplet}/backups/policy`);
  }
  await call("GET", "/v2/droplets/3164494/backups?page=2&per_page=1");
  await call("GET", "/v2/droplets/1/backups", { label: "unknown droplet" });
  await call("GET", "/v2/droplets/1/backups/policy", { label: "unknown droplet" });
}

async function checkTags(call: Call): Promise<void> {
  const image = { resource_id: "100000010", resource_type: "image" };
  await call("POST", "/v2/tags", { body: { name: "conformance" } });
  await call("POST", "/v2/tags", { body: { name: "conformance" }, label: "existing tag" });
  await call("POST", "/v2/tags", { body: { name: "bad name!" }, label: "invalid name" });
  await call("POST", "/v2/tags", { body: {}, label: "no name" });
  await call("POST", "/v2/tags", { raw: "nope", label: "malformed JSON" });
  await call("GET", "/v2/tags?per_page=1");
  await call("GET", "/v2/tags/env:prod");
  await call("GET", "/v2/tags/nope", { label: "unknown tag" });
  await call("POST", "/v2/tags/conformance/resources", { body: { resources: [image] } });
  await call("POST", "/v2/tags/conformance/resources", { body: { resources: [{ resource_id: "3164494", resource_type: "droplet" }] } });
  await call("POST", "/v2/tags/conformance/resources", { body: { resources: [] }, label: "no resources" });
  await call("POST", "/v2/tags/conformance/resources", { body: { resources: [{ resource_id: "42", resource_type: "image" }] }, label: "unknown image" });
  await call("POST", "/v2/tags/nope/resources", { body: { resources: [image] }, label: "unknown tag" });
  await call("GET", "/v2/tags/conformance", { label: "with resources" });
  await call("DELETE", "/v2/tags/conformance/resources", { body: { resources: [image] } });
  await call("DELETE", "/v2/tags/conformance/resources", { body: { resources: "x" }, label: "resources not a list" });
  await call("DELETE", "/v2/tags/conformance");
  await call("DELETE", "/v2/tags/conformance", { label: "already deleted" });
}

async function checkImageDeletes(call: Call): Promise<void> {
  await call("DELETE", "/v2/images/100000102", { label: "backup" });
  await call("DELETE", "/v2/images/94000001", { label: "public image" });
  await call("DELETE", "/v2/images/100000010");
  await call("DELETE", "/v2/images/100000010", { label: "already deleted" });
}

/** A team's token, a user's token outside any team, a token without account:read, and none. */
async function checkAccount(simulator: SimulatorModule, spec: Spec, report: Report): Promise<void> {
  await withSimulator(simulator, { moreTokens: [{ token: SCOPED_TOKEN, scopes: ["image:read"] }] }, async (sim) => {
    const call = caller(spec, report, sim, "account");
    await call("GET", "/v2/account", { label: "team token" });
    await call("GET", "/v2/account", { token: SCOPED_TOKEN, label: "no account:read scope" });
    await call("GET", "/v2/account", { token: null, label: "no token" });
  });
  await withSimulator(simulator, { account: { team: null } }, async (sim) => {
    await caller(spec, report, sim, "account")("GET", "/v2/account", { label: "user token, no team" });
  });
}

async function checkUnauthorized(call: Call): Promise<void> {
  for (const target of ["/v2/images", "/v2/images/100000101", "/v2/actions", "/v2/regions", "/v2/tags/env:prod", "/v2/droplets/3164494/backups"]) {
    await call("GET", target, { token: null, label: "no token" });
  }
  await call("POST", "/v2/images/100000101/actions", { body: { type: "convert" }, token: "dop_v1_wrong", label: "wrong token" });
  await call("DELETE", "/v2/images/100000101", { token: "dop_v1_wrong", label: "wrong token" });
}

/** The per-minute limit running out, then injected 429 storms. */
async function checkRateLimited(simulator: SimulatorModule, spec: Spec, report: Report): Promise<void> {
  await withSimulator(simulator, { rateLimit: { perMinute: 2, perHour: 100 } }, async (sim) => {
    const call = caller(spec, report, sim, "rate limited (429)");
    for (let i = 0; i < 3; i++) await call("GET", "/v2/images/100000010", { label: i < 2 ? "within the limit" : "over the limit" });
    await call("POST", "/v2/images/100000101/actions", { body: { type: "convert" }, label: "over the limit" });
  });
  await withSimulator(simulator, { faults: { seed: 1, tooManyRequestsRate: 1, stormRetryAfterSeconds: 3 } }, async (sim) => {
    const call = caller(spec, report, sim, "rate limited (429)");
    await call("GET", "/v2/actions", { label: "injected 429" });
    await call("POST", "/v2/images/100000101/actions", { body: { type: "convert" }, label: "injected 429" });
  });
}

/** Injected 500/502/503 answers across endpoints. */
async function checkServerErrors(simulator: SimulatorModule, spec: Spec, report: Report): Promise<void> {
  await withSimulator(simulator, { faults: { seed: 2, serverErrorRate: 1 } }, async (sim) => {
    const call = caller(spec, report, sim, "server errors (5xx)");
    for (const target of ["/v2/regions", "/v2/images", "/v2/images/100000010", "/v2/actions", "/v2/droplets/3164494/backups", "/v2/tags/env:prod"]) {
      await call("GET", target, { label: "injected" });
    }
    await call("POST", "/v2/images/100000101/actions", { body: { type: "convert" }, label: "injected" });
    await call("DELETE", "/v2/tags/env:prod", { label: "injected" });
  });
}

// ---------------------------------------------------------------- client requests

interface Recorded {
  method: string;
  target: string;
  contentType?: string;
  body: string;
}

/** A proxy in front of the simulator that keeps what the client sends; the simulator's log holds no bodies. */
async function startRecorder(upstream: string): Promise<{ url: string; recorded: Recorded[]; close(): Promise<void> }> {
  const recorded: Recorded[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    recorded.push({ method: req.method ?? "", target: req.url ?? "", contentType: req.headers["content-type"], body: body.toString("utf8") });
    const forward = http.request(`${upstream}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.destroy());
    forward.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, recorded, close };
}

async function drain<T>(items: AsyncIterable<T>): Promise<void> {
  for await (const _ of items) void _;
}

/** Drives every public client method against the simulator and checks each request it sent. */
async function checkClient(simulator: SimulatorModule, { DigitalOceanClient }: ClientModule, spec: Spec, report: Report): Promise<void> {
  await withSimulator(simulator, {}, async (sim) => {
    const recorder = await startRecorder(sim.url);
    const client = new DigitalOceanClient({ connection: { token: TOKEN, apiEndpoint: recorder.url } });
    const image = [{ resource_id: "100000010", resource_type: "image" as const }];
    let transfer = 0;
    const calls: [string, () => Promise<unknown>][] = [
      ["getAccount", () => client.getAccount()],
      ["getImage", () => client.getImage(100000010)],
      ["updateImage", () => client.updateImage(100000010, { name: "golden", description: "conformance", distribution: "Ubuntu" })],
      ["startImageAction (convert)", () => client.startImageAction(100000101, { type: "convert" })],
      ["startImageAction (transfer)", async () => (transfer = (await client.startImageAction(100000010, { type: "transfer", region: "sfo3" })).id)],
      ["listImageActions", () => drain(client.listImageActions(100000010))],
      ["listActions", () => client.listActions({ page: 1, perPage: 20 })],
      ["getAction", () => client.getAction(transfer)],
      ["listDropletBackups", () => drain(client.listDropletBackups(3164494))],
      ["getDropletBackupPolicy", () => client.getDropletBackupPolicy(3164494)],
      ["listRegions", () => client.listRegions()],
      ["ensureTag", () => client.ensureTag("conformance")],
      ["tagResources", () => client.tagResources("env:prod", image)],
      ["untagResources", () => client.untagResources("env:prod", image)],
      ["deleteImage", () => client.deleteImage(100000010)],
    ];
    try {
      for (const [name, run] of calls) {
        await run().catch((error: Error) => report.fail(CLIENT, { method: "client", target: name }, { at: "-", message: `the call failed: ${error.message}` }));
      }
    } finally {
      await client.close();
      await recorder.close();
    }
    for (const r of recorder.recorded) report.record(CLIENT, { method: r.method, target: r.target }, spec.checkRequest(r.method, r.target, r.contentType, r.body));
  });
}

// ---------------------------------------------------------------- main

/** Runs `use` against a simulator seeded from examples/seed.json, running 100 times faster than DigitalOcean. */
async function withSimulator(simulator: SimulatorModule, options: SimulatorOptions, use: (sim: Simulator) => Promise<void>): Promise<void> {
  const { startSimulator, loadSeed } = simulator;
  const sim = await startSimulator({ token: TOKEN, timeScale: 0.01, seed: loadSeed(path.join(REPO_ROOT, "examples", "seed.json")), ...options });
  try {
    await use(sim);
  } finally {
    await sim.close();
  }
}

/** The shipped code that `npm run build` makes, not a second compilation of the sources. */
function loadDist<T>(relative: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(REPO_ROOT, "dist", "provider", relative)) as T;
}

async function main(args: string[]): Promise<number> {
  const file = specArgument(args);
  const spec = loadSpec(file);
  const report = new Report();
  const simulator = loadDist<SimulatorModule>("simulator/index.js");
  console.log(`Checking the simulator and the client against ${file} (${spec.operations.length} operations)`);
  for (const quirk of spec.quirks) console.log(`spec quirk: ${quirk}`);

  await withSimulator(simulator, {}, async (sim) => {
    const group = (name: string) => caller(spec, report, sim, name);
    await checkRegions(group("regions"));
    await checkImages(group("images"));
    const ids = await checkImageActions(group("image actions"), sim);
    await checkActions(group("actions"), sim, ids);
    await checkDroplets(group("droplets and backups"));
    await checkTags(group("tags"));
    await checkImageDeletes(group("images"));
    await checkUnauthorized(group("unauthorized (401)"));
  });
  await checkAccount(simulator, spec, report);
  await checkRateLimited(simulator, spec, report);
  await checkServerErrors(simulator, spec, report);
  await checkClient(simulator, loadDist<ClientModule>("client/client.js"), spec, report);
  return report.print(file) > 0 ? 1 : 0;
}

// Run as the script; imported (by the tests), it only lends its description checks.
if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(error instanceof UsageError ? `conformance: ${error.message}` : error);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    },
  );
}
