/**
 * .github/workflows/release.yml: what a maintainer relies on when pushing a
 * tag (npm test also runs a workflow validator over it). The tag check is run
 * here with bash, as the runner runs it.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { REPO_ROOT } from "../engine/package";

type Step = { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string>; jobs: Record<string, { permissions?: Record<string, string>; steps: Step[] }> };

const FILE = join(REPO_ROOT, ".github", "workflows", "release.yml");
const text = readFileSync(FILE, "utf8");
const workflow = load(text) as Workflow;
const [job] = Object.values(workflow.jobs);
const version = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;

const pins = (file: string) =>
  new Map([...readFileSync(file, "utf8").matchAll(/uses: ([^@\s]+)@(\S+)(.*)/g)].map(([, action, ref, comment]) => [action, `${ref}${comment}`]));

it("runs on v* tags only, with write access for the release and an OIDC token for provenance", () => {
  expect(workflow.on).toEqual({ push: { tags: ["v*"] } });
  expect(workflow.permissions).toEqual({ contents: "read" });
  expect(job.permissions).toEqual({ contents: "write", "id-token": "write" });
});

it("pins each action to the full commit the gitops example pins, with the version in a comment", () => {
  const release = pins(FILE);
  const gitops = pins(join(REPO_ROOT, "examples", "gitops", ".github", "workflows", "pulumi-up.yml"));
  expect([...release.keys()]).toEqual(["actions/checkout", "actions/setup-node"]);
  for (const [action, pin] of release) {
    expect(pin).toMatch(/^[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    expect({ action, pin }).toEqual({ action, pin: gitops.get(action) });
  }
});

it("checks the tag, then installs, tests, packs, publishes that tarball with provenance and attaches it to the release", () => {
  const order = job.steps.map((s) => s.uses?.split("@")[0] ?? s.name ?? s.run);
  expect(order).toEqual(["actions/checkout", "actions/setup-node", "The tag names package.json's version", "npm ci --no-audit --no-fund", "npm test", "Pack", "Publish to npm", "GitHub release"]);
  const step = (name: string) => job.steps.find((s) => s.name === name) as Step;
  expect(step("Publish to npm").run).toContain('npm publish "$TARBALL" --provenance --access public');
  expect(step("Publish to npm").env?.TARBALL).toBe("${{ steps.pack.outputs.tarball }}");
  expect(step("GitHub release").env?.TARBALL).toBe("${{ steps.pack.outputs.tarball }}");
  expect(step("GitHub release").run).toContain('gh release create "$GITHUB_REF_NAME" "$TARBALL"');
  for (const s of job.steps) expect(`${s.run ?? ""}`).not.toMatch(/secrets\./);
});

it("refuses a tag that is not v<package.json version>", () => {
  const check = job.steps.find((s) => s.name === "The tag names package.json's version")?.run ?? "";
  const runWith = (tag: string) => spawnSync("bash", ["-e", "-c", check], { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, GITHUB_REF_NAME: tag } });
  expect(runWith(`v${version}`).status).toBe(0);
  for (const tag of [version, `v${version}.1`, "v0.0.0-other"]) {
    const refused = runWith(tag);
    expect({ tag, status: refused.status }).toEqual({ tag, status: 1 });
    expect(refused.stdout).toContain(`tag v${version} instead`);
  }
});
