import { TagWriter } from "../../provider/coalesce/tag-writer";
import { syncTags } from "../../provider/reconcile/tags";
import { simulatedAccount, WEB_BACKUPS } from "../support/account";
import { FakeReads, settle } from "./fake-client";

describe("TagWriter", () => {
  let fake: FakeReads;
  let writer: TagWriter;
  beforeEach(() => {
    fake = new FakeReads();
    writer = new TagWriter(fake.client);
  });

  it("tags a lone image with its own request", async () => {
    await writer.tag("dr", 1);
    expect(fake.requests).toEqual(["POST /v2/tags/dr/resources 1"]);
  });

  it("tags the images waiting for the same tag at the same moment with one request, and other tags apart", async () => {
    fake.autoGrant = false;
    const first = [writer.tag("dr", 1), writer.tag("dr", 2)];
    await settle();
    const later = [writer.tag("dr", 3), writer.tag("web", 1)];
    fake.grantSlots();
    await settle();
    fake.grantSlots();
    await Promise.all([...first, ...later]);
    expect(fake.requests).toEqual(["POST /v2/tags/dr/resources 1,2,3", "POST /v2/tags/web/resources 1"]);
  });

  it("tags each image on its own when the shared request fails, so only the refused image reports a failure", async () => {
    fake.untaggable.add(2);
    const outcomes = await Promise.allSettled([1, 2, 3].map((id) => writer.tag("dr", id)));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ status: 422 });
    expect(fake.requests).toEqual(["POST /v2/tags/dr/resources 1,2,3", "POST /v2/tags/dr/resources 1", "POST /v2/tags/dr/resources 2", "POST /v2/tags/dr/resources 3"]);
  });
});

describe("syncTags for images reaching the same new tag at once", () => {
  it("creates the tag once and tags them all with one request", async () => {
    const account = await simulatedAccount();
    try {
      const results = await Promise.all(WEB_BACKUPS.map((id) => syncTags(account.session, id, [], ["dr"])));
      expect(results.map((r) => r.tags)).toEqual(WEB_BACKUPS.map(() => ["dr"]));
      expect(account.writes().map((r) => r.route)).toEqual(["POST /v2/tags", "POST /v2/tags/:tag/resources"]);
      expect(WEB_BACKUPS.map((id) => account.sim.state.imageView(id)?.tags)).toEqual(WEB_BACKUPS.map(() => ["dr"]));
    } finally {
      await account.close();
    }
  });
});
