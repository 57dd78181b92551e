/**
 * `npm run demo` must keep showing what the README says it shows: its main
 * function, run here through the engine-path harness on a faster clock.
 */
import { main, type DemoReport } from "../../scripts/demo";

let report: DemoReport;
const lines: string[] = [];

beforeAll(async () => {
  report = await main({ timeScale: 0.001, harness: true, print: (line) => lines.push(line) });
}, 60_000);

const step = (title: string) => {
  const found = report.steps.find((s) => s.title.startsWith(title));
  if (!found) throw new Error(`no step "${title}" in ${report.steps.map((s) => s.title).join(", ")}`);
  return found;
};

it("runs preview, up, a no-op up, a region added and destroy, saying it used the harness", () => {
  expect(report.mode).toBe("engine-harness");
  expect(report.steps.map((s) => s.title)).toEqual([
    "pulumi preview",
    "pulumi up",
    "pulumi up (again, nothing changed)",
    `pulumi config set drRegions '["ams3","sfo3","lon1"]' && pulumi up`,
    "pulumi destroy",
  ]);
  expect(lines.join("\n")).toContain("`pulumi` is not on PATH: running the program through the engine-path harness");
});

it("preview sends no request; up converts once and transfers to both regions", () => {
  expect(step("pulumi preview")).toMatchObject({ operations: ["create web-weekly", "create web-weekly-dr"], requests: {} });
  const up = step("pulumi up");
  expect(up.operations).toEqual(["create web-weekly", "create web-weekly-dr"]);
  expect(up.requests["POST /v2/images/:id/actions"]).toBe(3);
  expect(up.outputs).toMatchObject({ snapshotId: 100000104, keptBackupId: 100000104, availableRegions: ["ams3", "nyc3", "sfo3"], transferredRegions: ["ams3", "sfo3"] });
  expect(up.logs.some((l) => l.includes("convert of backup 100000104: started action"))).toBe(true);
});

it("the second up writes nothing; adding a region is one transfer; destroy keeps the retained snapshot", () => {
  expect(step("pulumi up (again")).toMatchObject({ operations: ["same web-weekly", "same web-weekly-dr"], writes: 0 });
  const added = step("pulumi config set");
  expect(added.operations).toEqual(["same web-weekly", "update web-weekly-dr"]);
  expect(added.writes).toBe(1);
  expect(added.requests["POST /v2/images/:id/actions"]).toBe(1);
  expect(step("pulumi destroy")).toMatchObject({ operations: ["delete web-weekly-dr", "delete web-weekly"], writes: 0 });
  expect(report.actions).toEqual(["convert 100000104", "transfer 100000104 to ams3", "transfer 100000104 to lon1", "transfer 100000104 to sfo3"]);
});
