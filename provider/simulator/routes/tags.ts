import type { TagResource } from "../../api/types";
import { ApiRefusal, badRequest, notFound } from "../errors";
import { paginate } from "../pagination";
import { jsonObject, type Route, type RouteContext } from "./route";

const TAG_NAME = /^[a-zA-Z0-9_\-:]{1,255}$/;
const RESOURCE_TYPES = ["droplet", "image", "volume", "volume_snapshot", "database"];

/**
 * DigitalOcean's answer to a missing or invalid tag name: 400 with its `error`/`root_causes`
 * body (per the OpenAPI), plus the usual `id`/`message` so generic clients read it too.
 */
function tagRefused(detail: string): ApiRefusal {
  return new ApiRefusal(400, detail, {
    id: "bad_request",
    message: detail,
    error: detail,
    messages: null,
    root_causes: [`rpc error: code = InvalidArgument desc = ${detail}`],
  });
}

/** POST /v2/tags's JSON body; a malformed one is refused in the same `error`/`root_causes` shape. */
function tagRequestBody(ctx: RouteContext): Record<string, unknown> {
  try {
    return jsonObject(ctx);
  } catch (err) {
    if (err instanceof ApiRefusal && err.status === 400) throw tagRefused(err.message);
    throw err;
  }
}

function tagParam(ctx: RouteContext): string {
  const name = ctx.params.tag;
  if (!TAG_NAME.test(name)) throw notFound();
  return name;
}

function parseResources(ctx: RouteContext): TagResource[] {
  const { resources } = jsonObject(ctx);
  if (!Array.isArray(resources) || resources.length === 0) {
    throw badRequest("resources must be a non-empty array of {resource_id, resource_type}.");
  }
  return resources.map((r, i) => {
    const ok = typeof r === "object" && r !== null && typeof r.resource_id === "string" && RESOURCE_TYPES.includes(r.resource_type);
    if (!ok) {
      throw badRequest(`resources[${i}] must have a string resource_id and a resource_type among ${RESOURCE_TYPES.join(", ")}.`);
    }
    return { resource_id: r.resource_id, resource_type: r.resource_type };
  });
}

/** Tags and tagging. */
export const tagRoutes: Route[] = [
  {
    template: "POST /v2/tags",
    scope: "tag:create",
    handle: (ctx) => {
      const { name } = tagRequestBody(ctx);
      if (typeof name !== "string") throw tagRefused("Error validating resource tag: name is required and must be a string");
      if (!TAG_NAME.test(name)) throw tagRefused(`Error validating resource tag: "tag-name \\"${name}\\" contains invalid characters"`);
      const created = ctx.state.createTag(name);
      const tag = ctx.state.tagView(created.name, ctx.baseUrl);
      if (ctx.state.assumptions.tagAnswerSpelling === "requested") tag.name = name;
      return { status: 201, body: { tag } };
    },
  },
  {
    template: "GET /v2/tags",
    scope: "tag:read",
    handle: (ctx) => {
      const page = paginate(ctx.state.tagNames().map((name) => ctx.state.tagView(name, ctx.baseUrl)), ctx.url, ctx.baseUrl);
      return { status: 200, body: { tags: page.items, links: page.links, meta: page.meta } };
    },
  },
  {
    template: "GET /v2/tags/:tag",
    scope: "tag:read",
    handle: (ctx) => ({ status: 200, body: { tag: ctx.state.tagView(tagParam(ctx), ctx.baseUrl) } }),
  },
  {
    template: "DELETE /v2/tags/:tag",
    scope: "tag:delete",
    handle: (ctx) => {
      ctx.state.deleteTag(tagParam(ctx));
      return { status: 204 };
    },
  },
  {
    template: "POST /v2/tags/:tag/resources",
    scope: "tag:create",
    handle: (ctx) => {
      ctx.state.setTagged(tagParam(ctx), parseResources(ctx), true);
      return { status: 204 };
    },
  },
  {
    template: "DELETE /v2/tags/:tag/resources",
    scope: "tag:delete",
    handle: (ctx) => {
      ctx.state.setTagged(tagParam(ctx), parseResources(ctx), false);
      return { status: 204 };
    },
  },
];
