import { scaledClock, wallClock, type Clock } from "./clock";
import { DigitalOceanClient } from "./client/client";
import type { Connection } from "./client/config";
import { forgetRateLimiters, tokenFingerprint } from "./client/rate-limiter";
import { ActionWatcher } from "./waiter";

/** What resources work with: one client, watcher and clock per (token, endpoint) in the process. */
export interface Runtime {
  client: DigitalOceanClient;
  watcher: ActionWatcher;
  clock: Clock;
}

/** Memoized per token fingerprint and endpoint, so the token is never a key. */
const runtimes = new Map<string, Runtime>();

/**
 * The process's runtime for `connection`, created on first use. Every resource
 * in the dynamic-provider process shares it: one rate limiter, one poller, one
 * connection pool per token and endpoint. The clock is
 * `scaledClock(DO_IMAGE_ACTIONS_TIME_SCALE)` when that variable is set (to run
 * against a simulator on a scaled clock), else the wall clock.
 */
export function getRuntime(connection: Connection): Runtime {
  const key = `${tokenFingerprint(connection.token)} ${connection.apiEndpoint}`;
  let runtime = runtimes.get(key);
  if (!runtime) {
    const clock = clockFromEnvironment();
    const client = new DigitalOceanClient({ connection, clock });
    runtime = { client, watcher: new ActionWatcher(client, { clock }), clock };
    runtimes.set(key, runtime);
  }
  return runtime;
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

function clockFromEnvironment(): Clock {
  const raw = process.env.DO_IMAGE_ACTIONS_TIME_SCALE;
  return raw === undefined || raw === "" ? wallClock : scaledClock(Number(raw));
}
