/**
 * The dr-copy example as `pulumi up` would register it, under Pulumi's mocks:
 * what it creates and how the resources are wired, for each way of configuring it.
 */
import { capture, type CapturedResource } from "../engine/capture";

const PROJECT = "do-image-actions-dr-copy";
const SNAPSHOT_ID = 100000104;

async function registrations(config: Record<string, string>): Promise<Map<string, CapturedResource>> {
  const { resources } = await capture(
    () => {
      // A fresh module per run: the program registers its resources when loaded.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      jest.isolateModules(() => require("../../examples/dr-copy"));
    },
    {
      project: PROJECT,
      config: Object.fromEntries(Object.entries(config).map(([key, value]) => [`${PROJECT}:${key}`, value])),
      // The ids as the provider reports them: the snapshot's, and the copy's (its image's), so the copy and the standby can use them.
      newResource: (args) =>
        args.name === "web-weekly"
          ? { id: String(SNAPSHOT_ID), state: { ...args.inputs, snapshotId: SNAPSHOT_ID } }
          : args.name === "web-weekly-dr"
            ? { id: String(args.inputs.imageId), state: { ...args.inputs, imageId: Number(args.inputs.imageId) } }
            : undefined,
    },
  );
  return new Map(resources.map((r) => [r.name, r]));
}

it("with an existing Droplet: keeps its newest backup, copies it to the DR regions, and creates no Droplet", async () => {
  const byName = await registrations({ dropletId: "3164494", drRegions: '["ams3","lon1"]' });

  expect([...byName.keys()].sort()).toEqual(["web-weekly", "web-weekly-dr"]);
  expect(byName.get("web-weekly")?.inputs).toMatchObject({ dropletId: "3164494", tags: ["dr", "web"], triggers: { week: expect.stringMatching(/^\d{4}-W\d{2}$/) } });
  expect(byName.get("web-weekly")?.options.retainOnDelete).toBe(true);
  // Wired by the snapshot's resource id, which a preview knows while the snapshot is only renamed.
  expect(byName.get("web-weekly-dr")?.inputs).toMatchObject({ imageId: String(SNAPSHOT_ID), regions: ["ams3", "lon1"] });
});

it("without dropletId: creates a Droplet with weekly backups and keeps that Droplet's backup", async () => {
  const byName = await registrations({});

  const web = byName.get("web");
  expect(web?.type).toBe("digitalocean:index/droplet:Droplet");
  expect(web?.inputs).toMatchObject({ region: "nyc3", backups: true, backupPolicy: { plan: "weekly" } });
  expect(byName.get("web-weekly")?.inputs.dropletId).toBe("web-id");
  expect(byName.get("web-weekly-dr")?.inputs.regions).toEqual(["ams3", "sfo3"]);
});

it("with createStandby: creates a Droplet from the copy in the first DR region", async () => {
  const byName = await registrations({ dropletId: "3164494", createStandby: "true" });

  const standby = byName.get("web-standby");
  expect(standby?.type).toBe("digitalocean:index/droplet:Droplet");
  expect(standby?.inputs).toMatchObject({ image: String(SNAPSHOT_ID), region: "ams3" });
});
