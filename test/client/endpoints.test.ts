import { ApiError } from "../../provider/client/errors";
import { BACKUPS, clientFor, DROPLET, seededSimulator, SNAPSHOT } from "./helpers";

test("backups, image actions, deletes and tags go to the documented endpoints", async () => {
  const sim = await seededSimulator();
  const client = clientFor(sim);
  try {
    const backups: number[] = [];
    for await (const b of client.listDropletBackups(DROPLET)) backups.push(b.id);
    expect(backups).toEqual(BACKUPS);
    expect(await client.getDropletBackupPolicy(DROPLET)).toMatchObject({ droplet_id: DROPLET, backup_enabled: true, backup_policy: { plan: expect.any(String) } });

    const action = await client.startImageAction(SNAPSHOT, { type: "transfer", region: "ams3" });
    expect(await client.getAction(action.id)).toMatchObject({ id: action.id, region_slug: "ams3" });
    const listed = [];
    for await (const a of client.listImageActions(SNAPSHOT)) listed.push(a.id);
    expect(listed).toEqual([action.id]);

    await client.ensureTag("keep:golden");
    await client.ensureTag("keep:golden");
    await client.tagResources("keep:golden", [{ resource_id: String(SNAPSHOT), resource_type: "image" }]);
    expect((await client.getImage(SNAPSHOT)).tags).toEqual(["keep:golden"]);
    await client.untagResources("keep:golden", [{ resource_id: String(SNAPSHOT), resource_type: "image" }]);
    expect((await client.getImage(SNAPSHOT)).tags).toEqual([]);

    await client.deleteImage(SNAPSHOT);
    const again = await client.deleteImage(SNAPSHOT).catch((e: unknown) => e);
    expect(ApiError.isNotFound(again)).toBe(true);
    await expect(client.getImage(-1)).rejects.toThrow(RangeError);
  } finally {
    await client.close();
    await sim.close();
  }
});
