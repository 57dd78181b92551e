import { DigitalOceanClient } from "../../provider/client/client";
import { ApiError } from "../../provider/client/errors";
import { RequestPacer } from "../../provider/client/rate-limit/pacer";
import { startSimulator } from "../../provider/simulator";
import { GOLDEN_SNAPSHOT, SEED, TIME_SCALE } from "../support/account";
import { ImageReader } from "../../provider/coalesce/image-reader";
import { FakeReads, settle, snapshot } from "./fake-client";

let fake: FakeReads;
let reader: ImageReader;
beforeEach(() => {
  fake = new FakeReads();
  reader = new ImageReader(fake.client);
});

describe("ImageReader", () => {
  it("reads a lone image with the plain GET, as a single resource always has", async () => {
    fake.images.set(1, snapshot(1));
    await expect(reader.read(1)).resolves.toMatchObject({ id: 1 });
    expect(fake.requests).toEqual(["GET /v2/images/1"]);
  });

  it("lets reads pile up while the batch waits for its slot, and serves them with one list page", async () => {
    for (const id of [1, 2, 3, 4, 5]) fake.images.set(id, snapshot(id));
    fake.autoGrant = false;
    const first = [reader.read(1), reader.read(2)];
    await settle();
    const later = [reader.read(3), reader.read(4), reader.read(5), reader.read(2)];
    expect(fake.pendingSlots).toBe(1);
    fake.grantSlots();
    const images = await Promise.all([...first, ...later]);
    expect(images.map((image) => image.id)).toEqual([1, 2, 3, 4, 5, 2]);
    expect(fake.requests).toEqual(["GET /v2/images?page=1"]);
  });

  it("reads by id what the list does not show, and leaves a 404 to the caller to judge", async () => {
    for (const id of [1, 2, 3]) fake.images.set(id, snapshot(id));
    fake.unlisted.add(3);
    const reads = [1, 2, 3, 4].map((id) => reader.read(id));
    await expect(reads[2]).resolves.toMatchObject({ id: 3 });
    await expect(reads[3]).rejects.toBeInstanceOf(ApiError);
    await expect(reads[3]).rejects.toMatchObject({ status: 404 });
    await expect(Promise.all(reads.slice(0, 2))).resolves.toHaveLength(2);
    expect(fake.requests).toEqual(["GET /v2/images?page=1", "GET /v2/images/3", "GET /v2/images/4"]);
  });

  it("pages on only while the pages left are fewer than the reads they could save, and remembers the page count", async () => {
    for (const id of [1, 2, 3, 4]) fake.images.set(id, snapshot(id));
    fake.unlisted = new Set([2, 3, 4]);
    fake.listTotal = 1000;
    await Promise.all([1, 2, 3].map((id) => reader.read(id)));
    // Page 1 showed 1 of 3 and 4 pages are left: reading 2 and 3 by id is cheaper.
    expect(fake.requests).toEqual(["GET /v2/images?page=1", "GET /v2/images/2", "GET /v2/images/3"]);
    fake.requests = [];
    await Promise.all([2, 3, 4].map((id) => reader.read(id)));
    // Five pages now known: three reads are cheaper by id from the start.
    expect(fake.requests).toEqual(["GET /v2/images/2", "GET /v2/images/3", "GET /v2/images/4"]);
  });

  it("reads each image by id when a list page fails", async () => {
    for (const id of [1, 2]) fake.images.set(id, snapshot(id));
    fake.failList = true;
    await expect(Promise.all([reader.read(1), reader.read(2)])).resolves.toHaveLength(2);
    expect(fake.requests).toEqual(["GET /v2/images?page=1", "GET /v2/images/1", "GET /v2/images/2"]);
  });

  it("never answers a read with a request sent before the read began", async () => {
    fake.images.set(1, snapshot(1, ["nyc3"]));
    fake.autoGrant = false;
    const before = reader.read(1);
    fake.grantSlots();
    await settle();
    expect(fake.requests).toEqual(["GET /v2/images/1"]);
    // A transfer ends while the first GET is answered; a read starting now must see it.
    fake.images.set(1, snapshot(1, ["nyc3", "ams3"]));
    const after = reader.read(1);
    expect(fake.pendingSlots).toBe(1);
    fake.grantSlots();
    await expect(before).resolves.toMatchObject({ regions: ["nyc3"] });
    await expect(after).resolves.toMatchObject({ regions: ["nyc3", "ams3"] });
    expect(fake.requests).toEqual(["GET /v2/images/1", "GET /v2/images/1"]);
  });

  it("uses the slot it waited for, and gives none back unused", async () => {
    for (const id of [1, 2]) fake.images.set(id, snapshot(id));
    await Promise.all([reader.read(1), reader.read(2)]);
    await reader.read(1);
    expect(fake.unusedSlots).toBe(0);
  });
});

describe("ImageReader on a client that closes", () => {
  it("fails the reads still waiting for their slot as calls queued for the rate limit fail", async () => {
    const sim = await startSimulator({ timeScale: TIME_SCALE, seed: SEED });
    try {
      // One request a minute: after the first read, the next batch waits for its slot.
      const pacer = new RequestPacer(sim.clock, { perMinute: 1, perHour: 100 });
      const client = new DigitalOceanClient({ connection: { token: sim.token, apiEndpoint: sim.url }, clock: sim.clock, pacer });
      const closing = new ImageReader(client);
      await closing.read(GOLDEN_SNAPSHOT);
      const waiting = closing.read(GOLDEN_SNAPSHOT);
      await client.close();
      await expect(waiting).rejects.toMatchObject({ name: "NetworkError", code: "UND_ERR_CLOSED" });
      expect(sim.requests()).toHaveLength(1);
    } finally {
      await sim.close();
    }
  });
});
