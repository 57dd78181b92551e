import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DigitalOceanClient, type DigitalOceanClientOptions } from "../../provider/client/client";
import { RequestPacer } from "../../provider/client/rate-limit/pacer";
import type { Clock } from "../../provider/clock";
import { startSimulator, type SimulatorOptions, type Simulator } from "../../provider/simulator";

/** A thousand times faster than DigitalOcean: a minute of rate-limit window lasts 60 ms. */
export const TIME_SCALE = 0.001;

export const DROPLET = 3164494;
export const BACKUPS = [100000101, 100000102, 100000103];
export const SNAPSHOT = 100000010;

/** A simulator on a scaled clock with one Droplet (three backups) and one snapshot in nyc3. */
export async function seededSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ timeScale: TIME_SCALE, ...options });
  sim.state.seed({
    droplets: [
      {
        id: DROPLET,
        name: "web-01",
        region: "nyc3",
        backup_policy: { plan: "daily", hour: 4 },
        backups: BACKUPS.map((id, i) => ({ id, name: `web-01 backup ${i + 1}`, created_at: `2025-06-0${i + 1}T04:00:00Z` })),
      },
    ],
    images: [{ id: SNAPSHOT, name: "golden", type: "snapshot", regions: ["nyc3"] }],
  });
  return sim;
}

/** A client on the simulator's clock with its own limiter, so tests do not share rate-limit state. */
export function clientFor(sim: Simulator, options: Partial<DigitalOceanClientOptions> = {}): DigitalOceanClient {
  return new DigitalOceanClient({
    connection: { token: sim.token, apiEndpoint: sim.url },
    clock: sim.clock,
    pacer: new RequestPacer(sim.clock),
    ...options,
  });
}

/** The most requests the simulator saw in any sliding minute of its clock. */
export function maxPerSlidingMinute(times: number[]): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end] - times[start] >= 60_000) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

/** `clock`, counting its sleeps not yet over: each is a timer that would keep the process alive. */
export function countingClock(clock: Clock): Clock & { readonly pending: number } {
  let pending = 0;
  return {
    scale: clock.scale,
    now: () => clock.now(),
    sleep: (ms, signal) => {
      pending += 1;
      return clock.sleep(ms, signal).finally(() => (pending -= 1));
    },
    get pending() {
      return pending;
    },
  };
}

/** Lets pending callbacks and I/O run once. */
export const nextEventLoopTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A tiny HTTP server answering every request with `respond`, for answers the simulator would never give. */
export async function hostileServer(respond: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    respond(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hits: () => hits };
}
