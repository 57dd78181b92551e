import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { anchorOf, scaledClock, simulatorClockAt, wallClock, type Clock } from "./clock";
import { DigitalOceanClient } from "./client/client";
import { isLoopback, type Connection } from "./client/config";
import { ApiError, ConfigurationError } from "./client/errors";
import { RequestPacer } from "./client/rate-limit/pacer";
import type { Action, Region } from "./api/types";
import { ActionWatcher } from "./waiter";
import { ActionPoller } from "./waiter/poller";
import { ImageReader } from "./coalesce/image-reader";
import { InFlightScan } from "./coalesce/in-flight-scan";
import { TagWriter } from "./coalesce/tag-writer";
import { identityOf, type AccountIdentity } from "./api/account-identity";

/**
 * What resources work with: one client, poller and clock per (token, endpoint)
 * in the process, and what the resources it serves remember between them.
 */
export interface AccountSession {
  client: DigitalOceanClient;
  watcher: ActionWatcher;
  clock: Clock;
  /**
   * Resolves once the endpoint and token are known to reach an account's images
   * (one `checkAccess` call per session, its outcome kept for the process);
   * rejects with what that call failed with. Until it resolves, a 404 may mean
   * a wrong address or token rather than a missing image.
   */
  confirmAccess(): Promise<void>;
  /**
   * Who the token reaches (`GET /v2/account`, read when first asked and kept
   * for the process); undefined when the token may not read it (a
   * custom-scoped token without `account:read`, warned about once). Rejects
   * with what the read failed with, and the next ask reads again.
   */
  account(): Promise<AccountIdentity | undefined>;
  /**
   * The account that the state of the resource being served records (see
   * forResource): a 404 is taken as "gone" only when the token reaches it.
   * Unset on the shared session.
   */
  readonly recordedAccount?: AccountIdentity;
  /**
   * Image actions this process is starting or waiting for, by image and
   * request: a second resource asking for the same action in the same run
   * joins it instead of posting it again. An entry goes when its start fails
   * or a wait for its action ends, and only that entry: a later attempt at the
   * same action (after one errored) keeps its own.
   */
  ongoing: Map<string, OngoingAction>;
  /** Image reads, shared by the resources reading at the same moment. */
  images: ImageReader;
  /** "Which actions on this image may be in flight?", one scan of the account's actions for the images asked about at the same moment. */
  inFlight: InFlightScan;
  /**
   * The account's regions: they change a few times a year, so one listing
   * serves every resource of a `pulumi up` of hundreds of copies.
   */
  regions: SharedRead<Region[]>;
  /**
   * Tags known to exist or being created, by lower-cased name, to the spelling
   * DigitalOcean keeps: a stack tagging hundreds of snapshots with the same few
   * tags creates each once, not once per snapshot, even when they all reach
   * their tags at the same moment.
   */
  knownTags: Map<string, Promise<string>>;
  /** Tagging, shared by the images getting the same tag at the same moment. */
  tagWriter: TagWriter;
}

/** One start of an image action, shared by every resource of the process that asks for it while it runs. */
export interface OngoingAction {
  started: Promise<Action>;
  /** Set once `started` resolves. */
  actionId?: number;
}

/** One read shared by everyone who asks while it is pending or after it succeeded; a failed one is forgotten, so the next caller reads again. */
export class SharedRead<T> {
  private result: Promise<T> | undefined;

  get(read: () => Promise<T>): Promise<T> {
    if (this.result) return this.result;
    const result = read();
    this.result = result;
    result.catch(() => {
      if (this.result === result) this.result = undefined;
    });
    return result;
  }
}

/** The variable that runs the provider's clock faster, to match a simulator started with the same `--time-scale`. */
export const TIME_SCALE_VARIABLE = "DO_IMAGE_ACTIONS_TIME_SCALE";

/** What the process shares per token: DigitalOcean's limits are per token, whatever endpoint spelling reaches it. */
interface TokenShare {
  clock: Clock;
  pacer: RequestPacer;
  /** One session (connection pool, poller, caches) per endpoint spelling. */
  sessions: Map<string, AccountSession>;
}

/**
 * The process's only module-level state, keyed by token fingerprint (never the
 * token) and time scale: windows counted on one time line mean nothing on
 * another. A process runs on one time line, so in practice the key is the token.
 */
const shares = new Map<string, TokenShare>();

/**
 * The process's session for `connection`, created on first use. Every resource
 * in the dynamic-provider process shares it: one poller and one connection pool
 * per token and endpoint, one rate limiter per token. The clock is
 * `scaledClock(DO_IMAGE_ACTIONS_TIME_SCALE)` when that variable is set (to run
 * against a simulator on a scaled clock; refused for any other endpoint),
 * anchored where the simulator's is so both read the same time; else the wall
 * clock.
 */
export function getSession(connection: Connection): AccountSession {
  const scale = scaleFromEnvironment(connection);
  const key = `${tokenFingerprint(connection.token)} ${scale}`;
  let share = shares.get(key);
  if (!share) {
    const clock = scale === 1 ? wallClock : scaledClock(scale, simulatorAnchor(connection.apiEndpoint, scale));
    share = { clock, pacer: new RequestPacer(clock), sessions: new Map() };
    shares.set(key, share);
  }
  let session = share.sessions.get(connection.apiEndpoint);
  if (!session) {
    const client = new DigitalOceanClient({ connection, clock: share.clock, pacer: share.pacer, notice: apiNotice });
    session = createSession(client, share.clock, apiNotice);
    share.sessions.set(connection.apiEndpoint, session);
  }
  return session;
}

/** How the provider's notices reach the CLI: Pulumi shows a dynamic provider's output among the diagnostics. */
function apiNotice(message: string): void {
  console.log(`DigitalOcean API: ${message}`);
}

/**
 * A session around `client` with a poller and caches of its own; getSession
 * shares one per connection, tests and tools make their own. `notice` gets the
 * one-time warning about a token that may not read its account.
 * @internal
 */
export function createSession(client: DigitalOceanClient, clock: Clock, notice: (message: string) => void = apiNotice): AccountSession {
  let access: Promise<void> | undefined;
  const account = new SharedRead<AccountIdentity | undefined>();
  const readAccount = async (): Promise<AccountIdentity | undefined> => {
    try {
      return identityOf(await client.getAccount());
    } catch (error) {
      // DigitalOcean serves this path to every token: a 404 means the endpoint is not its API.
      if (ApiError.isNotFound(error)) {
        throw error.withAdvice(`${client.endpoint} does not serve DigitalOcean's API there: check the endpoint (DigitalOcean's is https://api.digitalocean.com, with no path)`);
      }
      // Keyed on status and id: DigitalOcean's wording of the message may change.
      if (!(error instanceof ApiError && error.status === 403 && error.errorId === "forbidden")) throw error;
      notice(
        `the token from ${client.tokenSource} may not read its account (GET /v2/account answered 403 forbidden): it lacks the ` +
          `account:read scope. Resources then record no account, and a 404 for an image is trusted on weaker evidence, which ` +
          `cannot tell an adopted snapshot read with another team's token from a deleted one. Add account:read to the token's scopes`,
      );
      return undefined;
    }
  };
  return {
    client,
    watcher: new ActionWatcher(new ActionPoller(client, clock)),
    clock,
    confirmAccess: () => (access ??= client.checkAccess()),
    account: () => account.get(readAccount),
    ongoing: new Map(),
    images: new ImageReader(client),
    inFlight: new InFlightScan(client, clock),
    regions: new SharedRead(),
    knownTags: new Map(),
    tagWriter: new TagWriter(client),
  };
}

/**
 * The session as one resource's calls use it: `recorded` is the account its
 * state records (undefined for none), so every 404 those calls meet is judged
 * against it. Everything else is the shared session's.
 */
export function forResource(session: AccountSession, recorded: AccountIdentity | undefined): AccountSession {
  return recorded ? { ...session, recordedAccount: recorded } : session;
}

/**
 * Closes and forgets every session and rate limiter (for tests).
 * @internal
 */
export async function resetSessions(): Promise<void> {
  const closing = [...shares.values()].flatMap((share) => [...share.sessions.values()].map((session) => session.client.close()));
  shares.clear();
  await Promise.all(closing);
}

/** A stable, non-reversible name for a token: safe to use as a key or to log. */
function tokenFingerprint(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 16);
}

/**
 * The scaled clock is a test hook: left set against DigitalOcean it would make
 * a two-minute transfer "time out" after seconds and poll far too often, so it
 * is refused unless the endpoint is a loopback simulator.
 */
function scaleFromEnvironment(connection: Connection): number {
  const raw = process.env[TIME_SCALE_VARIABLE];
  if (raw === undefined || raw.trim() === "") return 1;
  const scale = Number(raw);
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new ConfigurationError(
      `${TIME_SCALE_VARIABLE} is ${JSON.stringify(raw)}, not a positive number. It only matches a local simulator's --time-scale ` +
        `(e.g. 0.01); unset it to use real time`,
    );
  }
  const host = new URL(connection.apiEndpoint).hostname;
  if (scale !== 1 && !isLoopback(host)) {
    throw new ConfigurationError(
      `${TIME_SCALE_VARIABLE}=${raw} is set, but the API endpoint ${connection.apiEndpoint} is not a local simulator: ` +
        `the variable speeds up the provider's clock to match a simulator's --time-scale, and against DigitalOcean it would ` +
        `end waits early. Unset ${TIME_SCALE_VARIABLE} (it is read from the environment of the pulumi process)`,
    );
  }
  return scale;
}

/** What the simulator answers on `GET /_sim/clock`. */
interface SimulatorClockReading {
  clockMs: number;
  wallClockMs: number;
  scale: number;
  /** Absent for a clock that is not a plain scaled one. */
  anchorMs?: number;
}

/**
 * The anchor of the simulator's scaled clock at `endpoint`, so this process's
 * clock reads the same time as the simulator's: the timestamps it writes
 * (`started_at`, `ratelimit-reset`) are compared with ours. Read once per
 * token and scale, when the session is made; sessions are made synchronously
 * on first use, so the one request to a simulator in another process runs in
 * a child process. When nothing there answers like the simulator, the clock is
 * anchored now.
 */
function simulatorAnchor(endpoint: string, scale: number): number {
  const reading = readSimulatorClock(endpoint);
  if (!reading || ![reading.clockMs, reading.wallClockMs, reading.scale].every(Number.isFinite)) return Date.now();
  if (reading.scale !== scale) {
    throw new ConfigurationError(
      `${TIME_SCALE_VARIABLE}=${scale} is set, but the simulator at ${endpoint} runs at --time-scale ${reading.scale}: ` +
        `set ${TIME_SCALE_VARIABLE}=${reading.scale} (in the environment of the pulumi process) to match it`,
    );
  }
  return Number.isFinite(reading.anchorMs) ? (reading.anchorMs as number) : anchorOf(scale, reading.clockMs, reading.wallClockMs);
}

/** The simulator's clock: directly when it runs in this process, else from `GET /_sim/clock` in a child process. */
function readSimulatorClock(endpoint: string): SimulatorClockReading | undefined {
  const local = simulatorClockAt(endpoint);
  if (local) return { wallClockMs: Date.now(), clockMs: local.now(), scale: local.scale, anchorMs: local.anchorMs };
  try {
    const url = new URL("/_sim/clock", endpoint).href;
    const answer = execFileSync(process.execPath, ["-e", READ_SIMULATOR_CLOCK, url, require.resolve("undici")], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "ignore"] });
    return JSON.parse(answer) as SimulatorClockReading;
  } catch {
    return undefined;
  }
}

/** With undici (the package's HTTP client), prints the body of a 2xx answer to the URL given first; exits 1 on anything else. */
const READ_SIMULATOR_CLOCK = `require(process.argv[2])
  .request(process.argv[1], { headersTimeout: 5000, bodyTimeout: 5000 })
  .then((r) => (r.statusCode >= 200 && r.statusCode < 300 ? r.body.text() : Promise.reject(new Error(String(r.statusCode)))))
  .then((text) => process.stdout.write(text), () => (process.exitCode = 1));`;
