import { anchorOf, scaledClock, wallClock } from "../provider/clock";
import { ManualClock } from "./support/manual-clock";

describe("scaledClock", () => {
  afterEach(() => jest.useRealTimers());

  it("runs 1/scale times faster than the wall clock", () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 5, 1), doNotFake: ["setImmediate"] });
    const clock = scaledClock(0.01);
    const before = clock.now();
    jest.advanceTimersByTime(50);
    expect(clock.now() - before).toBe(5_000);
    expect(clock.scale).toBe(0.01);
  });

  it("reads the real time when made, and agrees with the wall clock at a given anchor instead", () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 11, 1, 23, 59, 59), doNotFake: ["setImmediate"] });
    const anchor = Date.UTC(2026, 0, 1);
    const anchored = scaledClock(0.001, anchor);
    expect(scaledClock(0.001).now()).toBe(Date.UTC(2026, 11, 1, 23, 59, 59));
    expect(anchored.now()).toBe(anchor + (Date.UTC(2026, 11, 1, 23, 59, 59) - anchor) * 1000);
  });

  it("gives a clock made later, from one reading of another, the same time line", () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 5, 1), doNotFake: ["setImmediate"] });
    const first = scaledClock(0.01);
    jest.advanceTimersByTime(90_000);
    const later = scaledClock(0.01, anchorOf(0.01, first.now(), Date.now()));
    expect(later.now()).toBe(first.now());
    jest.advanceTimersByTime(1_234);
    expect(later.now()).toBe(first.now());
    expect(scaledClock(0.01).now()).toBeLessThan(first.now());
  });

  it("is the wall clock at scale 1, and refuses a scale that is not positive", () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 5, 1, 12), doNotFake: ["setImmediate"] });
    expect(scaledClock(1).now()).toBe(Date.UTC(2026, 5, 1, 12));
    jest.advanceTimersByTime(1_234);
    expect(wallClock.now()).toBe(Date.UTC(2026, 5, 1, 12) + 1_234);
    expect(wallClock.scale).toBe(1);
    expect(() => scaledClock(0)).toThrow(RangeError);
    expect(() => scaledClock(Number.NaN)).toThrow(/positive number/);
  });

  it("sleeps 1/scale times shorter in real time", async () => {
    jest.useFakeTimers({ doNotFake: ["setImmediate"] });
    let woke = false;
    const sleeping = scaledClock(0.01)
      .sleep(5_000)
      .then(() => (woke = true));
    jest.advanceTimersByTime(49);
    await Promise.resolve();
    expect(woke).toBe(false);
    jest.advanceTimersByTime(1);
    await sleeping;
    expect(woke).toBe(true);
  });

  it("rejects a sleep with the signal's reason when aborted", async () => {
    const controller = new AbortController();
    const sleeping = scaledClock(1).sleep(60_000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(sleeping).rejects.toThrow("stop");
  });
});

describe("ManualClock (the tests' clock)", () => {
  it("wakes sleepers in wake-time order only when time is advanced past them", async () => {
    const clock = new ManualClock(0);
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));
    await clock.advance(99);
    expect(woke).toEqual([]);
    await clock.advance(500);
    expect(woke).toEqual(["a@100", "b@300"]);
    expect(clock.now()).toBe(599);
  });

  it("lets code resumed by one wake-up sleep again within the same advance", async () => {
    const clock = new ManualClock(0);
    const ticks: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(10);
        ticks.push(clock.now());
      }
    })();
    await clock.advance(100);
    expect(ticks).toEqual([10, 20, 30]);
  });

  it("runs a promise to completion through its sleeps, and refuses one that nothing can wake", async () => {
    const clock = new ManualClock(0);
    const slow = (async () => {
      await clock.sleep(60_000);
      await clock.sleep(60_000);
      return clock.now();
    })();
    await expect(clock.runUntil(slow)).resolves.toBe(120_000);
    await expect(clock.runUntil(new Promise(() => undefined))).rejects.toThrow(/nothing is asleep/);
  });

  it("rejects an aborted sleep and forgets it", async () => {
    const clock = new ManualClock(0);
    const controller = new AbortController();
    const sleeping = clock.sleep(1_000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(sleeping).rejects.toThrow("stop");
    expect(clock.pendingSleeps).toBe(0);
  });
});
