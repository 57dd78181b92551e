/**
 * NAIVE STRATEGY, for comparison only: what a straightforward client does
 * without this package's machinery. Every resource runs its own loop: read the
 * image, start the actions it lacks, then GET each action every 5 s of clock
 * time until it is done, then read the image again. There is no shared rate
 * limiter and no shared poller: a 429 is simply retried after its
 * `retry-after`, and counted. Same undici pool size as the package's client
 * (16 connections), same resources, same writes (convert, transfers, rename,
 * tag), so only the strategy differs.
 */
import { Pool } from "undici";
import type { Declaration } from "./scenario";

/** Clock ms between two looks at one action. */
export const NAIVE_POLL_INTERVAL_MS = 5_000;
const CONNECTIONS = 16;

interface Action {
  id: number;
  status: string;
}

interface Image {
  id: number;
  type: string;
  name: string;
  regions: string[];
  tags?: string[];
}

export class NaiveClient {
  private readonly pool: Pool;
  /** 429 answers received (each was retried). */
  tooManyRequests = 0;

  constructor(
    url: string,
    private readonly token: string,
    /** Real ms per clock ms. */
    private readonly scale: number,
  ) {
    this.pool = new Pool(url, { connections: CONNECTIONS });
  }

  sleep(clockMs: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, clockMs * this.scale));
  }

  /** Sends until the answer is not a 429; throws on any other non-2xx. */
  async call<T>(method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<T> {
    for (;;) {
      const response = await this.pool.request({
        method,
        path,
        headers: { authorization: `Bearer ${this.token}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.body.text();
      if (response.statusCode === 429) {
        this.tooManyRequests += 1;
        const seconds = Number(response.headers["retry-after"]);
        await this.sleep((Number.isFinite(seconds) ? seconds : 1) * 1000);
        continue;
      }
      if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${text.slice(0, 200)}`);
      return (text === "" ? undefined : JSON.parse(text)) as T;
    }
  }

  async waitFor(actionId: number): Promise<void> {
    for (;;) {
      await this.sleep(NAIVE_POLL_INTERVAL_MS);
      const { action } = await this.call<{ action: Action }>("GET", `/v2/actions/${actionId}`);
      if (action.status === "completed") return;
      if (action.status === "errored") throw new Error(`action ${actionId} errored`);
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** One resource's create, the naive way. */
export async function naiveCreate(client: NaiveClient, declaration: Declaration): Promise<void> {
  if (declaration.kind === "ImageRegionCopy") {
    const { imageId, regions } = declaration.inputs;
    const { image } = await client.call<{ image: Image }>("GET", `/v2/images/${imageId}`);
    const missing = regions.filter((region) => !image.regions.includes(region));
    await Promise.all(
      missing.map(async (region) => {
        const { action } = await client.call<{ action: Action }>("POST", `/v2/images/${imageId}/actions`, { type: "transfer", region });
        await client.waitFor(action.id);
      }),
    );
    if (missing.length > 0) await client.call("GET", `/v2/images/${imageId}`);
    return;
  }
  const { backupId, name, tags } = declaration.inputs;
  let { image } = await client.call<{ image: Image }>("GET", `/v2/images/${backupId}`);
  if (image.type === "backup") {
    const { action } = await client.call<{ action: Action }>("POST", `/v2/images/${backupId}/actions`, { type: "convert" });
    await client.waitFor(action.id);
    ({ image } = await client.call<{ image: Image }>("GET", `/v2/images/${backupId}`));
  }
  if (image.name !== name) await client.call("PUT", `/v2/images/${backupId}`, { name });
  for (const tag of tags.filter((t) => !(image.tags ?? []).includes(t))) {
    await client.call("POST", "/v2/tags", { name: tag });
    await client.call("POST", `/v2/tags/${encodeURIComponent(tag)}/resources`, { resources: [{ resource_id: String(backupId), resource_type: "image" }] });
  }
}
