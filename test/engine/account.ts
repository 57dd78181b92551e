/**
 * One engine-path test account: a simulator seeded from examples/seed.json on a
 * 1000x clock, and the real dynamic-provider server (from the packed package)
 * configured against it the way a stack would be, on the same clock.
 */
import * as path from "node:path";
import { loadSeed, startSimulator, type RequestLogEntry, type Simulator, type SimulatorOptions } from "../../provider/simulator";
import { PausableClock } from "../support/pausable-clock";
import { preparePackage, REPO_ROOT, type PreparedPackage } from "./package";
import { startDynamicProvider, type DynamicProviderServer } from "./server";

/** A thousand times faster than DigitalOcean: a 60 s convert takes 60 ms. */
export const TIME_SCALE = 0.001;
// From the repository root, so that the harness compiled to build/ finds it too.
export const SEED_FILE = path.join(REPO_ROOT, "examples", "seed.json");
export const WEB_DROPLET = 3164494;
/** The newest of Droplet 3164494's backups in the seed. */
export const WEB_NEWEST_BACKUP = 100000104;
export const GOLDEN_SNAPSHOT = 100000010;

/** Routes the poller uses to watch actions. */
export const POLL_ROUTES = ["GET /v2/actions", "GET /v2/actions/:id"];

export interface EngineAccount {
  sim: Simulator;
  /** The simulator's clock: paused, it holds every action in progress while the provider's waits run out on its own clock. */
  simClock: PausableClock;
  pkg: PreparedPackage;
  server: DynamicProviderServer;
  /** The stack config the server was configured with (the token as a secret). */
  config: Record<string, string>;
  /** Requests that change something (anything but GET), as `METHOD route`. */
  writes(): string[];
  /** The same, as `METHOD path`, for tests that tell images apart. */
  writePaths(): string[];
  /** Requests on `route` (a template such as `POST /v2/images/:id/actions`). */
  count(route: string): number;
  /** Empties the simulator's request log and the provider's log, so a test sees only its own. */
  resetLogs(): void;
  close(): Promise<void>;
}

export async function startEngineAccount(options: { env?: Record<string, string>; simulator?: Pick<SimulatorOptions, "actionDurations" | "account" | "moreTokens"> } = {}): Promise<EngineAccount> {
  const simClock = new PausableClock(TIME_SCALE);
  const sim = await startSimulator({ clock: simClock, seed: loadSeed(SEED_FILE), ...options.simulator });
  let server: DynamicProviderServer | undefined;
  try {
    const pkg = await preparePackage();
    const config = { "digitalocean:token": sim.token, "digitalocean:apiEndpoint": sim.url };
    server = await startDynamicProvider({
      cwd: pkg.dir,
      // The provider's clock (polling, backoff, limiter windows) on the simulator's scale.
      env: { DO_IMAGE_ACTIONS_TIME_SCALE: String(TIME_SCALE), DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined, ...options.env },
      config,
      secretConfigKeys: ["digitalocean:token"],
    });
    const running = server;
    return {
      sim,
      simClock,
      pkg,
      server: running,
      config,
      writes: () => sim.requests().filter(isWrite).map((r) => r.route ?? `${r.method} ${r.path}`),
      writePaths: () => sim.requests().filter(isWrite).map((r) => `${r.method} ${r.path}`),
      count: (route) => sim.requests().filter((r) => r.route === route).length,
      resetLogs: () => {
        sim.resetRequests();
        running.clearLogs();
      },
      close: async () => {
        await running.close();
        await sim.close();
      },
    };
  } catch (err) {
    await server?.close();
    await sim.close();
    throw err;
  }
}

function isWrite(entry: RequestLogEntry): boolean {
  return entry.method !== "GET";
}
