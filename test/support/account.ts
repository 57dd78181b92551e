import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DigitalOceanClient } from "../../provider/client/client";
import { scaledClock } from "../../provider/clock";
import { createSession, type AccountSession } from "../../provider/session";
import type { Action, ImageActionRequest } from "../../provider/api/types";
import { startSimulator, type RequestLogEntry, type SeedData, type Simulator, type SimulatorOptions } from "../../provider/simulator";
import { PausableClock } from "./pausable-clock";

/** The example seed: Droplet 3164494 (nyc3) with four daily backups, Droplet 3164495, snapshot 100000010. */
export const SEED: SeedData = JSON.parse(readFileSync(join(__dirname, "../../examples/seed.json"), "utf8"));
export const WEB_DROPLET = 3164494;
export const WEB_BACKUPS = [100000101, 100000102, 100000103, 100000104];
export const GOLDEN_SNAPSHOT = 100000010;

/** A thousand times faster than DigitalOcean: a 60 s convert takes 60 ms. */
export const TIME_SCALE = 0.001;
/** Longer than the simulator's default convert (60 s) and transfer (120 s), which do not depend on the image's size. */
const LONGEST_SIMULATED_ACTION_MS = 121_000;

export interface Account {
  sim: Simulator;
  /** The simulator's clock: paused, it holds every action in progress while the session's waits run out. */
  simClock: PausableClock;
  session: AccountSession;
  /** Requests that change something (anything but GET). */
  writes(): RequestLogEntry[];
  close(): Promise<void>;
}

/** A seeded simulator and a session (client, watcher, clock), each on its own clock of the same scale, as in two processes. */
export async function simulatedAccount(
  options: Pick<SimulatorOptions, "faults" | "refuseDuplicateActions" | "tagAnswerSpelling"> & { rateLimit?: false } = {},
): Promise<Account> {
  const simClock = new PausableClock(TIME_SCALE);
  const sim = await startSimulator({ clock: simClock, seed: SEED, ...options });
  const session = sessionFor(sim);
  return {
    sim,
    simClock,
    session,
    writes: () => sim.requests().filter((r) => r.method !== "GET"),
    close: async () => {
      await session.client.close();
      await sim.close();
    },
  };
}

/** A separate session against the same simulator, as a second pipeline would have, on a clock of the simulator's scale that a pause of the simulator does not stop. */
export function sessionFor(sim: Simulator): AccountSession {
  // Anchored where the simulator's clock is, as a provider process takes it from the simulator.
  const clock = scaledClock(sim.clock.scale, sim.clock.anchorMs);
  return createSession(new DigitalOceanClient({ connection: { token: sim.token, apiEndpoint: sim.url }, clock }), clock);
}

/**
 * Starts `request` on the image, due at once but held by the paused simulator, and
 * resumes the simulator as soon as the session's next image read has answered: that
 * read sees the image without the action's result, and every read after it sees the
 * action completed.
 */
export async function actionFinishingAfterNextImageRead(account: Account, imageId: number, request: ImageActionRequest): Promise<Action> {
  account.simClock.pause();
  const action = await account.session.client.startImageAction(imageId, request);
  await account.sim.clock.sleep(LONGEST_SIMULATED_ACTION_MS);
  const { images } = account.session;
  const read = images.read.bind(images);
  jest.spyOn(images, "read").mockImplementationOnce(async (id) => {
    const image = await read(id);
    account.simClock.resume();
    return image;
  });
  account.sim.resetRequests();
  return action;
}

/** Messages are collected instead of printed, so tests can assert on them. */
export function collectingLog(): { log: (message: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { log: (message) => lines.push(message), lines };
}

/** A new daily backup of the web Droplet on `day` of June 2025, as DigitalOcean takes one each night. */
export function nightlyBackup(sim: Simulator, day: number): number {
  const date = `2025-06-${String(day).padStart(2, "0")}`;
  return sim.state.addBackup(WEB_DROPLET, { name: `web-01 ${date}`, created_at: `${date}T04:10:00Z`, size_gigabytes: 3.3 }).id;
}
