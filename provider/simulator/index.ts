/**
 * A local simulator of the DigitalOcean API subset this package uses: images,
 * image actions, actions, Droplets with backups and backup policy, regions and
 * tags, over real HTTP on loopback. It reproduces DigitalOcean's status codes,
 * bodies, rate limiting and asynchronous actions, and injects faults on demand.
 *
 * ```ts
 * const sim = await startSimulator({ timeScale: 0.01, seed: loadSeed("examples/seed.json") });
 * // point a client at sim.url with sim.token ...
 * sim.requests();            // what the client sent
 * sim.setFaults({ lostResponseRate: 1, routes: ["POST /v2/images/:id/actions"] });
 * await sim.close();
 * ```
 *
 * Besides `/v2`, the server answers `/_sim/...` for tests (no auth, no limits, no faults):
 * `GET /_sim/requests`, `GET /_sim/requests/counts`, `DELETE /_sim/requests`,
 * `GET /_sim/state`, `GET /_sim/faults`, `PUT /_sim/faults`.
 *
 * @module pulumi-digitalocean-image-actions/simulator
 */
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { registerSimulatorClock, scaledClock, wallClock, type Clock } from "../clock";
import { Faults, type FaultConfig } from "./faults";
import { accountBody, simAccount, validateScopes, type SeedAccount, type SimAccount, type SimToken } from "./identity";
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitConfig } from "./rate-limit";
import { RequestLog, type RequestCounts, type RequestLogEntry } from "./request-log";
import { ROUTE_TEMPLATES } from "./routes";
import { createRequestListener } from "./server";
import { SimState, type ActionDurations } from "./state";
import type { SeedData } from "./seed";

export type { FaultConfig } from "./faults";
export type { RateLimitConfig } from "./rate-limit";
export type { RequestCounts, RequestLogEntry, RequestOutcome } from "./request-log";
export type { ActionDurations, StateSnapshot } from "./state";
export type { SeedBackup, SeedBackupPolicy, SeedData, SeedDroplet, SeedImage } from "./seed";
export type { SeedAccount, SimAccount, SimToken } from "./identity";
// Types the simulator's own signatures use, so that programs can name them.
export type { Action, ActionStatus, Image, ImageStatus, ImageType, Region, TagResource } from "../api/types";
export type { Clock } from "../clock";
export { DEFAULT_RATE_LIMIT } from "./rate-limit";
export { ROUTE_TEMPLATES } from "./routes";
export { loadSeed, validateSeed } from "./seed";

/** How to start a simulator; every field is optional. */
export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback only: `127.0.0.1` (default), `::1` or `localhost`. */
  host?: string;
  /** The bearer token to accept. Default: a random `dop_v1_sim_<hex>`. */
  token?: string;
  /** The scopes of `token`, like a custom-scoped token's (see SimToken). Default: full access. */
  scopes?: readonly string[];
  /** More tokens of the same account, each with its own scopes: a custom-scoped token beside a full one. */
  moreTokens?: readonly SimToken[];
  /**
   * Who `GET /v2/account` says the tokens belong to; replaces the seed's
   * `account`. Default: a team with random uuids, so two simulators are two accounts.
   */
  account?: SeedAccount;
  /** The time line for action durations, rate windows and latency. Default: the wall clock. */
  clock?: Clock;
  /** Shortcut for `clock: scaledClock(timeScale)`; 0.01 runs 100 times faster. */
  timeScale?: number;
  actionDurations?: ActionDurations;
  /** Per-token limits; `false` disables rate limiting and its headers. Default 250/min, 5000/h. */
  rateLimit?: RateLimitConfig | false;
  faults?: FaultConfig;
  seed?: SeedData;
  /**
   * Refuse with 422 a convert or transfer identical to one still in flight on
   * the image. An assumption of this simulator: DigitalOcean does not document
   * refusing such a duplicate, so the default (false) accepts it and starts a
   * second action, and the package must not depend on the refusal.
   */
  refuseDuplicateActions?: boolean;
  /**
   * How `POST /v2/tags` spells a tag that exists in another capitalization:
   * `existing` (default) answers with the spelling the account keeps,
   * `requested` echoes the request. DigitalOcean documents neither; the package
   * must tag correctly under both.
   */
  tagAnswerSpelling?: "existing" | "requested";
}

/**
 * The simulated account, from code. Reads apply due action completions first,
 * like the HTTP API does.
 */
export type SimulatorState = Pick<
  SimState,
  | "seed"
  | "addRegion"
  | "addDroplet"
  | "addBackup"
  | "addImage"
  | "failNextAction"
  | "imageView"
  | "listImages"
  | "listActions"
  | "action"
  | "listDroplets"
  | "backups"
  | "listRegions"
  | "snapshot"
>;

/** A running simulator. */
export interface Simulator {
  /** `http://127.0.0.1:PORT`, the base URL to give a client (paths start with `/v2`). */
  readonly url: string;
  readonly token: string;
  /** Who `GET /v2/account` says the tokens belong to. */
  readonly account: SimAccount;
  readonly clock: Clock;
  readonly state: SimulatorState;
  /** The `/v2` request log, oldest first (same as `GET /_sim/requests`). */
  requests(): RequestLogEntry[];
  /** Counts by route template, method and outcome (same as `GET /_sim/requests/counts`). */
  requestCounts(): RequestCounts;
  /** Empties the request log (same as `DELETE /_sim/requests`). */
  resetRequests(): void;
  /** The current fault config (same as `GET /_sim/faults`). */
  faults(): FaultConfig;
  /** Replaces the fault config and reseeds its PRNG (same as `PUT /_sim/faults`). Throws RangeError when invalid. */
  setFaults(faults: FaultConfig): void;
  /** Stops listening and drops open connections; calling it again returns the same promise. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** Starts a simulator listening on loopback. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? "127.0.0.1";
  if (!LOOPBACK.has(host)) throw new RangeError(`host must be a loopback address (127.0.0.1, ::1, localhost), got "${host}"`);
  if (options.clock && options.timeScale !== undefined) throw new RangeError("give either clock or timeScale, not both");
  const clock = options.clock ?? (options.timeScale !== undefined ? scaledClock(options.timeScale) : wallClock);
  const token = options.token ?? `dop_v1_sim_${randomBytes(24).toString("hex")}`;
  if (!/^\S+$/.test(token)) throw new RangeError("token must be non-empty and contain no whitespace");
  const tokens: SimToken[] = [{ token, scopes: options.scopes }, ...(options.moreTokens ?? [])];
  for (const [i, t] of tokens.entries()) {
    if (i > 0 && (!/^\S+$/.test(t.token) || tokens.findIndex((other) => other.token === t.token) !== i)) {
      throw new RangeError(`moreTokens[${i - 1}].token must be non-empty, contain no whitespace and differ from the other tokens`);
    }
    validateScopes(t.scopes, i === 0 ? "scopes" : `moreTokens[${i - 1}].scopes`);
  }
  const account = simAccount(options.account ?? options.seed?.account);
  const rate = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  if (rate && !(Number.isInteger(rate.perMinute) && rate.perMinute > 0 && Number.isInteger(rate.perHour) && rate.perHour > 0)) {
    throw new RangeError(`rateLimit.perMinute and perHour must be positive integers, got ${JSON.stringify(rate)}`);
  }

  const faults = new Faults(ROUTE_TEMPLATES, options.faults);
  const state = new SimState(clock, faults, {
    convertMs: options.actionDurations?.convertMs ?? 60_000,
    transferMs: options.actionDurations?.transferMs ?? 120_000,
    perGigabyteMs: options.actionDurations?.perGigabyteMs ?? 0,
  }, { refuseDuplicateActions: options.refuseDuplicateActions ?? false, tagAnswerSpelling: options.tagAnswerSpelling ?? "existing" });
  if (options.seed) state.seed(options.seed);
  const log = new RequestLog(clock);
  const closing = new AbortController();
  // Every request delayed by injected latency listens on this one signal until it is answered.
  setMaxListeners(0, closing.signal);
  let url = "";

  const server = createServer(
    createRequestListener({
      state,
      faults,
      log,
      tokens,
      account: accountBody(account),
      clock,
      limiter: rate ? new RateLimiter(rate, clock) : null,
      baseUrl: () => url,
      closing: closing.signal,
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  const stop = () =>
    new Promise<void>((resolve, reject) => {
      unregister();
      closing.abort(new Error("simulator closed"));
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  url = `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
  // A provider session made in this process takes its clock from here: asking over HTTP would wait on this process.
  const unregister = registerSimulatorClock(new URL(url).origin, clock);

  return {
    url,
    token,
    account,
    clock,
    state,
    requests: () => log.list(),
    requestCounts: () => log.counts(),
    resetRequests: () => log.reset(),
    faults: () => faults.get(),
    setFaults: (f) => faults.set(f),
    close: () => (closed ??= stop()),
  };
}
