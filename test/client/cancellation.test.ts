import { NetworkError } from "../../provider/client/errors";
import { RequestPacer } from "../../provider/client/rate-limit/pacer";
import { wallClock } from "../../provider/clock";
import type { Simulator } from "../../provider/simulator";
import { clientFor, countingClock, seededSimulator, nextEventLoopTurn, SNAPSHOT } from "./helpers";
import { until } from "../support/until";

/** Lets the promise chains an abort or a close sets off run to the end. */

test("aborting the only request queued behind a full window ends the limiter's sleep", async () => {
  // On the wall clock the window stays full for a real minute, far longer than the test.
  const clock = countingClock(wallClock);
  const limiter = new RequestPacer(clock, { perMinute: 1, perHour: 1_000 });
  (await limiter.acquire({ deadline: Infinity })).release({ status: 200 });
  const cancel = new AbortController();
  const queued = limiter.acquire({ deadline: Infinity, signal: cancel.signal });
  await nextEventLoopTurn();
  expect(clock.pending).toBe(1);

  const reason = new Error("cancelled");
  cancel.abort(reason);
  await expect(queued).rejects.toBe(reason);
  await nextEventLoopTurn();
  expect(limiter.usage().queued).toBe(0);
  expect(clock.pending).toBe(0);
});

describe("closing the client", () => {
  let sim: Simulator;
  afterEach(async () => {
    await sim.close();
  });

  test("rejects its calls still queued for the rate limit instead of sending them to the closed pool later", async () => {
    sim = await seededSimulator({ timeScale: 1 });
    const clock = countingClock(sim.clock);
    const limiter = new RequestPacer(clock, { perMinute: 1, perHour: 1_000 });
    const client = clientFor(sim, { clock, pacer: limiter });
    await client.getImage(SNAPSHOT);
    const queued = client.getImage(SNAPSHOT).catch((e: unknown) => e);
    await until(() => limiter.usage().queued > 0, "a call to queue for the rate limit");

    await client.close();
    const error = await queued;
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: "UND_ERR_CLOSED", message: expect.stringContaining(`GET /v2/images/${SNAPSHOT}`) });
    await nextEventLoopTurn();
    expect(limiter.usage().queued).toBe(0);
    expect(clock.pending).toBe(0);
    expect(sim.requests()).toHaveLength(1);
  });
});
