import { scaledClock, wallClock, type Clock } from "./clock";
import { DigitalOceanClient } from "./client/client";
import { isLoopback, type Connection } from "./client/config";
import { ConfigurationError } from "./client/errors";
import { forgetRateLimiters, tokenFingerprint } from "./client/rate-limiter";
import type { Action } from "./api/types";
import { ActionWatcher } from "./waiter";
import { ImageReader } from "./reconcile/coalesce/image-reader";
import { InFlightScan } from "./reconcile/coalesce/in-flight-scan";

/** What resources work with: one client, watcher and clock per (token, endpoint) in the process. */
export interface Runtime {
  client: DigitalOceanClient;
  watcher: ActionWatcher;
  clock: Clock;
  /**
   * Resolves once the endpoint and token are known to reach an account's images
   * (one `checkAccess` call per runtime, its outcome kept for the process);
   * rejects with what that call failed with. Until it resolves, a 404 may mean
   * a wrong address or token rather than a missing image.
   */
  confirmAccess(): Promise<void>;
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
}

/** One start of an image action, shared by every resource of the process that asks for it while it runs. */
export interface OngoingAction {
  started: Promise<Action>;
  /** Set once `started` resolves. */
  actionId?: number;
}

/** The variable that runs the provider's clock faster, to match a simulator started with the same `--time-scale`. */
export const TIME_SCALE_VARIABLE = "DO_IMAGE_ACTIONS_TIME_SCALE";

/** Memoized per token fingerprint and endpoint, so the token is never a key. */
const runtimes = new Map<string, Runtime>();

/**
 * The process's runtime for `connection`, created on first use. Every resource
 * in the dynamic-provider process shares it: one rate limiter, one poller, one
 * connection pool per token and endpoint. The clock is
 * `scaledClock(DO_IMAGE_ACTIONS_TIME_SCALE)` when that variable is set (to run
 * against a simulator on a scaled clock; refused for any other endpoint), else
 * the wall clock.
 */
export function getRuntime(connection: Connection): Runtime {
  const key = `${tokenFingerprint(connection.token)} ${connection.apiEndpoint}`;
  let runtime = runtimes.get(key);
  if (!runtime) {
    const clock = clockFromEnvironment(connection);
    const client = new DigitalOceanClient({ connection, clock, notice: (message) => console.log(`DigitalOcean API: ${message}`) });
    runtime = createRuntime(client, clock);
    runtimes.set(key, runtime);
  }
  return runtime;
}

/**
 * A runtime around `client`; getRuntime shares one per connection, tests and tools make their own.
 * @internal
 */
export function createRuntime(client: DigitalOceanClient, clock: Clock): Runtime {
  let access: Promise<void> | undefined;
  return {
    client,
    watcher: new ActionWatcher(client, { clock }),
    clock,
    confirmAccess: () => (access ??= client.checkAccess()),
    ongoing: new Map(),
    images: new ImageReader(client),
    inFlight: new InFlightScan(client, clock),
  };
}

/**
 * Closes and forgets every runtime and rate limiter (for tests).
 * @internal
 */
export async function resetRuntimes(): Promise<void> {
  const closing = [...runtimes.values()].map((r) => r.client.close());
  runtimes.clear();
  forgetRateLimiters();
  await Promise.all(closing);
}

/**
 * The scaled clock is a test hook: left set against DigitalOcean it would make
 * a two-minute transfer "time out" after seconds and poll far too often, so it
 * is refused unless the endpoint is a loopback simulator.
 */
function clockFromEnvironment(connection: Connection): Clock {
  const raw = process.env[TIME_SCALE_VARIABLE];
  if (raw === undefined || raw.trim() === "") return wallClock;
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
  return scaledClock(scale);
}
