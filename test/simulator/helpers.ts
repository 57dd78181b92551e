import { request } from "undici";
import type { Simulator } from "pulumi-digitalocean-image-actions/simulator";

/** A parsed answer from the simulator. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** Sends a request with the simulator's token (or `token`), JSON-encoding objects. */
export async function call(sim: Simulator, method: string, path: string, body?: unknown, token: string | null = sim.token): Promise<Reply> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await request(new URL(path, sim.url), {
    method: method as "GET",
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(", ") : String(v);
  return { status: res.statusCode, headers: flat, body: text === "" ? undefined : JSON.parse(text) };
}

/** Asserts DigitalOcean's error body and request id header. */
export function expectError(reply: Reply, status: number, id: string): void {
  expect(reply.status).toBe(status);
  expect(reply.body).toEqual({ id, message: expect.any(String), request_id: expect.any(String) });
  expect(reply.body.message.length).toBeGreaterThan(0);
  expect(reply.headers["x-request-id"]).toBe(reply.body.request_id);
}

/** The seed most tests start from: one Droplet in nyc3 with three backups, and a snapshot. */
export const SEED = {
  droplets: [
    {
      id: 3164494,
      name: "web-01",
      region: "nyc3",
      backup_policy: { plan: "daily" as const, hour: 4 },
      backups: [
        { id: 100000003, name: "b3", created_at: "2025-06-03T04:00:00Z", size_gigabytes: 3 },
        { id: 100000001, name: "b1", created_at: "2025-06-01T04:00:00Z", size_gigabytes: 3 },
        { id: 100000002, name: "b2", created_at: "2025-06-02T04:00:00Z", size_gigabytes: 3 },
      ],
    },
  ],
  images: [{ id: 100000010, name: "snap", type: "snapshot" as const, regions: ["nyc3"], droplet_id: 3164494 }],
};
