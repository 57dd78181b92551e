import { scaledClock, wallClock } from "../provider/clock";

describe("scaledClock", () => {
  it("runs 1/scale times faster than the wall clock", async () => {
    const clock = scaledClock(0.01);
    const before = clock.now();
    await clock.sleep(5_000);
    // 5 s of clock time is 50 real ms; a timer may fire up to a real millisecond early (100 clock ms).
    expect(clock.now() - before).toBeGreaterThanOrEqual(4_900);
    expect(clock.scale).toBe(0.01);
  });

  it("reads the same time in clocks of one scale made apart, as a simulator and a provider process are", async () => {
    const first = scaledClock(0.001);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = scaledClock(0.001);
    // 50 real ms apart would be 50 clock seconds apart if each clock started at its own creation.
    expect(Math.abs(first.now() - second.now())).toBeLessThan(5_000);
  });

  it("is the wall clock at scale 1, and refuses a scale that is not positive", () => {
    expect(Math.abs(scaledClock(1).now() - Date.now())).toBeLessThan(1_000);
    expect(wallClock.scale).toBe(1);
    expect(() => scaledClock(0)).toThrow(RangeError);
    expect(() => scaledClock(Number.NaN)).toThrow(/positive number/);
  });

  it("rejects a sleep with the signal's reason when aborted", async () => {
    const controller = new AbortController();
    const sleeping = scaledClock(1).sleep(60_000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(sleeping).rejects.toThrow("stop");
  });
});
