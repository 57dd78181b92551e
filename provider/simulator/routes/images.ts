import type { ImageActionRequest, ImageUpdate } from "../../api/types";
import { badRequest, notFound, unprocessable } from "../errors";
import { paginate } from "../pagination";
import { intParam, jsonObject, type Route, type RouteContext } from "./route";

function imageIdOrSlug(ctx: RouteContext): number | string {
  const raw = ctx.params.id;
  return /^[0-9]+$/.test(raw) ? intParam(ctx, "id") : raw;
}

const MAX_NAME_LENGTH = 255;

function parseUpdate(ctx: RouteContext): ImageUpdate {
  const body = jsonObject(ctx);
  const update: ImageUpdate = {};
  for (const key of ["name", "description", "distribution"] as const) {
    const v = body[key];
    if (v === undefined) continue;
    if (typeof v !== "string") throw badRequest(`${key} must be a string.`);
    // DigitalOcean documents image names of at most 255 characters; the status (422) and text of the refusal are the simulator's own assumption.
    if (key === "name" && v.length > MAX_NAME_LENGTH) throw unprocessable(`name must be at most ${MAX_NAME_LENGTH} characters.`);
    update[key] = v;
  }
  return update;
}

function parseAction(ctx: RouteContext): ImageActionRequest {
  const body = jsonObject(ctx);
  if (body.type === "convert") return { type: "convert" };
  if (body.type === "transfer") {
    if (body.region === undefined) throw badRequest("region is required for a transfer.");
    if (typeof body.region !== "string" || body.region === "") throw badRequest("region must be a region slug string.");
    return { type: "transfer", region: body.region };
  }
  throw badRequest(`type must be "convert" or "transfer", got ${JSON.stringify(body.type ?? null)}.`);
}

/** `/v2/images` and its image actions. */
export const imageRoutes: Route[] = [
  {
    template: "GET /v2/images",
    scope: "image:read",
    handle: (ctx) => {
      const q = ctx.url.searchParams;
      const images = ctx.state.listImages({
        privateOnly: q.get("private") === "true",
        type: q.get("type") ?? undefined,
        tag: q.get("tag_name") ?? undefined,
      });
      const page = paginate(images, ctx.url, ctx.baseUrl);
      return { status: 200, body: { images: page.items, links: page.links, meta: page.meta } };
    },
  },
  {
    template: "GET /v2/images/:id",
    scope: "image:read",
    handle: (ctx) => {
      const image = ctx.state.imageView(imageIdOrSlug(ctx));
      if (!image) throw notFound();
      return { status: 200, body: { image } };
    },
  },
  {
    template: "PUT /v2/images/:id",
    scope: "image:update",
    handle: (ctx) => {
      const id = intParam(ctx, "id");
      return { status: 200, body: { image: ctx.state.updateImage(id, parseUpdate(ctx)) } };
    },
  },
  {
    template: "DELETE /v2/images/:id",
    scope: "image:delete",
    handle: (ctx) => {
      ctx.state.deleteImage(intParam(ctx, "id"));
      return { status: 204 };
    },
  },
  {
    template: "POST /v2/images/:id/actions",
    scope: "image:update",
    handle: (ctx) => {
      const id = intParam(ctx, "id");
      // An unknown image is 404 even when the body is also wrong, as the resource is looked up first.
      if (!ctx.state.imageView(id)) throw notFound();
      return { status: 201, body: { action: ctx.state.startAction(id, parseAction(ctx)) } };
    },
  },
  {
    template: "GET /v2/images/:id/actions",
    scope: "image:read",
    handle: (ctx) => {
      const id = intParam(ctx, "id");
      if (!ctx.state.imageView(id)) throw notFound();
      const page = ctx.state.actionPage(ctx.url, ctx.baseUrl, id);
      return { status: 200, body: { actions: page.items, links: page.links, meta: page.meta } };
    },
  },
  {
    template: "GET /v2/images/:id/actions/:action_id",
    scope: "image:read",
    handle: (ctx) => {
      const id = intParam(ctx, "id");
      const action = ctx.state.action(intParam(ctx, "action_id"));
      if (!ctx.state.imageView(id) || !action || action.resource_id !== id) throw notFound();
      return { status: 200, body: { action } };
    },
  },
];
