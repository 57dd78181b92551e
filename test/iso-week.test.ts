import { isoWeek } from "pulumi-digitalocean-image-actions";

describe("isoWeek", () => {
  it.each([
    ["2026-11-24T10:00:00Z", "2026-W48"],
    ["2021-01-01T00:00:00Z", "2020-W53"],
    ["2024-12-30T12:00:00Z", "2025-W01"],
    ["2026-01-04T23:59:59Z", "2026-W01"],
    ["2026-01-05T00:00:00Z", "2026-W02"],
  ])("puts %s in %s", (date, week) => {
    expect(isoWeek(new Date(date))).toBe(week);
  });
});
