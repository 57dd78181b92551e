/**
 * The engine harness's scratch install links into the node_modules of the clone
 * that made it. A second clone (or the same path cloned again after the first
 * was deleted) must never run against links into a folder that is gone.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { preparePackage, pruneScratch, REPO_ROOT, scratchIsUsable, scratchRoot } from "./package";

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

describe("pruning", () => {
  const HOUR = 60 * 60_000;
  /** A finished build folder of `repo` under `key`, last written `age` ago. */
  function build(key: string, name: string, repo: string, age: number, now: number): string {
    const dir = path.join(base, "engine", key, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, ".ready"), repo);
    const when = new Date(now - age);
    fs.utimesSync(path.join(dir, ".ready"), when, when);
    return dir;
  }

  it("removes this clone's older builds once untouched for a while, and keeps the current and recent ones", () => {
    const now = Date.now();
    const current = build("mine", "current", base, 2 * HOUR, now);
    const recent = build("mine", "recent", base, 60_000, now);
    const old = build("mine", "old", base, 2 * HOUR, now);
    pruneScratch(path.join(base, "engine"), current, now);
    expect([fs.existsSync(current), fs.existsSync(recent), fs.existsSync(old)]).toEqual([true, true, false]);
  });

  it("removes the folders of clones that are gone, whatever their age, and keeps those of clones still there", () => {
    const now = Date.now();
    const current = build("mine", "current", base, 0, now);
    const gone = build("gone", "b1", path.join(base, "deleted-clone"), 0, now);
    const alive = build("alive", "b1", base, 2 * HOUR, now);
    pruneScratch(path.join(base, "engine"), current, now);
    expect(fs.existsSync(path.dirname(gone))).toBe(false);
    expect(fs.existsSync(alive)).toBe(true);
  });
});
