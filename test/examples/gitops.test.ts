/**
 * examples/gitops: the program as the pipeline runs it (under Pulumi's mocks),
 * its rotation keys, and the workflows' policy (npm test also runs a workflow
 * validator over them): actions pinned, one run per stack, previews without
 * the DigitalOcean token, secrets never in a shell step, and job time limits
 * above the program's waits.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { backupDay, backupMonth } from "../../examples/gitops/rotation";
import { capture, type CapturedResource } from "../engine/capture";

const EXAMPLE = join(__dirname, "..", "..", "examples", "gitops");
const WORKFLOWS = join(EXAMPLE, ".github", "workflows");
const PROJECT = "droplet-backups";

type Workflow = {
  on: Record<string, unknown>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  permissions?: Record<string, string>;
  jobs: Record<string, { uses?: string; with?: Record<string, unknown>; secrets?: unknown; steps?: Step[]; "timeout-minutes"?: unknown }>;
};
type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };

const workflow = (file: string) => load(readFileSync(join(WORKFLOWS, file), "utf8")) as Workflow;
const caller = (file: string) => Object.values(workflow(file).jobs)[0];

async function registrations(config: Record<string, string>): Promise<Map<string, CapturedResource>> {
  const { resources } = await capture(
    () => {
      // A fresh module per run: the program registers its resources when loaded.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      jest.isolateModules(() => require("../../examples/gitops"));
    },
    { project: PROJECT, config: Object.fromEntries(Object.entries(config).map(([key, value]) => [`${PROJECT}:${key}`, value])) },
  );
  return new Map(resources.map((r) => [r.name, r]));
}

describe("rotation keys", () => {
  it("move to the new day only when the backup window has ended", () => {
    expect(backupDay(new Date("2026-06-02T03:59:59Z"), 4)).toBe("2026-06-01");
    expect(backupDay(new Date("2026-06-02T04:00:00Z"), 4)).toBe("2026-06-02");
    expect(backupDay(new Date("2026-06-02T00:00:00Z"), 0)).toBe("2026-06-02");
  });

  it("move to the new month on its first day's window end", () => {
    expect(backupMonth(new Date("2026-07-01T03:00:00Z"), 4)).toBe("2026-06");
    expect(backupMonth(new Date("2026-07-01T05:00:00Z"), 4)).toBe("2026-07");
  });
});

describe("the program", () => {
  it("keeps daily generations of the Droplet, copied to the DR region, and leaves them when removed", async () => {
    const byName = await registrations({ dropletId: "3164494" });

    expect([...byName.keys()]).toEqual(["daily"]);
    const vault = byName.get("daily");
    expect(vault?.inputs).toMatchObject({ dropletId: "3164494", keep: 7, copyToRegions: ["ams3"], waitTimeoutSeconds: 1800 });
    expect(vault?.inputs.rotationKey).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(vault?.options.retainOnDelete).toBe(true);
  });

  it("with archiveDropletId: a monthly snapshot of that Droplet, its copy wired by id", async () => {
    const byName = await registrations({ dropletId: "3164494", archiveDropletId: "3164495", drRegion: "fra1", backupWindowEndHour: "0" });

    expect([...byName.keys()].sort()).toEqual(["daily", "monthly", "monthly-dr"]);
    expect(byName.get("monthly")?.inputs).toMatchObject({ dropletId: "3164495", triggers: { month: expect.stringMatching(/^\d{4}-\d{2}$/) } });
    expect(byName.get("monthly")?.options.retainOnDelete).toBe(true);
    // The mocks give a resource the id "<name>-id".
    expect(byName.get("monthly-dr")?.inputs).toMatchObject({ imageId: "monthly-id", regions: ["fra1"] });
  });
});

describe("the workflows", () => {
  const files = readdirSync(WORKFLOWS).sort();
  const steps = caller("pulumi.yml").steps ?? [];

  it("are the shared job and its three callers", () => {
    expect(files).toEqual(["pulumi-drift.yml", "pulumi-preview.yml", "pulumi-up.yml", "pulumi.yml"]);
    for (const file of files.filter((f) => f !== "pulumi.yml")) {
      expect(caller(file)).toMatchObject({ uses: "./.github/workflows/pulumi.yml", secrets: "inherit" });
    }
  });

  it("pin every action to a full commit, with the version it is in a comment", () => {
    const text = readFileSync(join(WORKFLOWS, "pulumi.yml"), "utf8");
    const pins = [...text.matchAll(/uses: (\S+)@(\S+)(.*)/g)].map(([, action, ref, comment]) => ({ action, ref, comment: comment.trim() }));
    expect(pins.map((p) => p.action)).toEqual(["actions/checkout", "actions/setup-node", "pulumi/actions"]);
    for (const pin of pins) {
      expect(pin.ref).toMatch(/^[0-9a-f]{40}$/);
      expect(pin.comment).toMatch(/^# v\d+\.\d+\.\d+$/);
    }
  });

  it("hand secrets to the Pulumi step's environment only, never to a shell step", () => {
    for (const step of steps) expect(`${step.run ?? ""}`).not.toMatch(/secrets\.|TOKEN|PASSPHRASE/);
    const pulumi = steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(Object.values(pulumi?.env ?? {}).every((value) => /^\$\{\{ .*secrets\.[A-Z_]+.* \}\}$/.test(value))).toBe(true);
    expect(pulumi?.env?.DIGITALOCEAN_TOKEN).toBe("${{ inputs.digitalocean-token && secrets.DIGITALOCEAN_TOKEN || '' }}");
  });

  it("preview pull requests without the DigitalOcean token, editing one comment, a newer push cancelling the older preview", () => {
    const preview = workflow("pulumi-preview.yml");
    expect(Object.keys(preview.on)).toEqual(["pull_request"]);
    expect(preview.concurrency).toEqual({ group: "pulumi-preview-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
    expect(preview.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(caller("pulumi-preview.yml").with).toMatchObject({ command: "preview", "comment-on-pr": true, "digitalocean-token": false });
    expect(steps.find((s) => s.uses?.startsWith("pulumi/actions@"))?.with).toMatchObject({ "edit-pr-comment": true, diff: true });
  });

  it("run up on a push to main and on a schedule, and the drift check, one at a time per stack and never cancelled", () => {
    const up = workflow("pulumi-up.yml");
    const drift = workflow("pulumi-drift.yml");
    expect(up.on).toMatchObject({ push: { branches: ["main"] }, schedule: [{ cron: expect.any(String) }, { cron: expect.any(String) }] });
    expect(caller("pulumi-up.yml").with).toMatchObject({ command: "up" });
    expect(caller("pulumi-drift.yml").with).toMatchObject({ command: "preview", refresh: true, "expect-no-changes": true });
    expect(up.concurrency).toEqual({ group: "pulumi-${{ vars.PULUMI_STACK }}", "cancel-in-progress": false });
    expect(drift.concurrency).toEqual(up.concurrency);
  });

  it("give up a time limit above the program's longest chain of waits: a convert, then the transfers", async () => {
    const wait = (await registrations({ dropletId: "3164494" })).get("daily")?.inputs.waitTimeoutSeconds as number;
    const limit = caller("pulumi-up.yml").with?.["timeout-minutes"] as number;
    expect(limit * 60).toBeGreaterThan(2 * wait + 10 * 60);
    expect(caller("pulumi.yml")["timeout-minutes"]).toBe("${{ inputs.timeout-minutes }}");
  });
});
