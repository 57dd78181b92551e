/**
 * The engine harness's scratch install links into the node_modules of the clone
 * that made it. A second clone (or the same path cloned again after the first
 * was deleted) must never run against links into a folder that is gone.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { preparePackage, REPO_ROOT, scratchIsUsable, scratchRoot } from "./package";

let base: string;
beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), "scratch-test-"));
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

/** A clone with one installed dependency and a scratch folder made by it. */
function cloneWithScratch(name: string): { repo: string; scratch: string } {
  const repo = path.join(base, name);
  fs.mkdirSync(path.join(repo, "node_modules", "@pulumi", "pulumi"), { recursive: true });
  const scratch = path.join(base, `${name}-scratch`);
  fs.mkdirSync(path.join(scratch, "node_modules", "@pulumi"), { recursive: true });
  fs.symlinkSync(path.join(repo, "node_modules", "@pulumi", "pulumi"), path.join(scratch, "node_modules", "@pulumi", "pulumi"), "dir");
  fs.writeFileSync(path.join(scratch, ".ready"), repo);
  return { repo, scratch };
}

it("keys scratch folders by the clone's path", () => {
  fs.mkdirSync(path.join(base, "a"));
  fs.mkdirSync(path.join(base, "b"));
  expect(scratchRoot(path.join(base, "a"))).not.toBe(scratchRoot(path.join(base, "b")));
  expect(scratchRoot(path.join(base, "a"))).toBe(scratchRoot(path.join(base, "a")));
});

it("refuses a folder whose links dangle because its clone was deleted", () => {
  const { repo, scratch } = cloneWithScratch("first");
  expect(scratchIsUsable(scratch, repo)).toBe(true);
  fs.rmSync(repo, { recursive: true });
  expect(scratchIsUsable(scratch, repo)).toBe(false);
});

it("refuses a folder made by another clone, even with its links intact", () => {
  const { scratch } = cloneWithScratch("first");
  const other = cloneWithScratch("second");
  expect(scratchIsUsable(scratch, other.repo)).toBe(false);
});

it("refuses a folder that was never finished", () => {
  const { repo, scratch } = cloneWithScratch("first");
  fs.rmSync(path.join(scratch, ".ready"));
  expect(scratchIsUsable(scratch, repo)).toBe(false);
});

it("prepares this clone's package in a usable folder under this clone's key", async () => {
  const pkg = await preparePackage();
  expect(path.dirname(pkg.dir)).toBe(scratchRoot(REPO_ROOT));
  expect(scratchIsUsable(pkg.dir, REPO_ROOT)).toBe(true);
  expect(fs.realpathSync(path.join(pkg.dir, "node_modules", "@pulumi", "pulumi"))).toBe(fs.realpathSync(path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi")));
}, 120_000);
