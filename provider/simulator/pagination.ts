import type { PageLinks, PageMeta } from "../api/types";
import { ApiRefusal } from "./errors";

const DEFAULT_PER_PAGE = 20;
const MAX_PER_PAGE = 200;

/** One page of a collection, in DigitalOcean's envelope minus the collection key. */
export interface Page<T> {
  items: T[];
  links: PageLinks;
  meta: PageMeta;
}

function positiveInt(raw: string | null, name: string): number | undefined {
  if (raw === null || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) {
    throw new ApiRefusal(400, `${name} must be an integer, got "${raw}"`);
  }
  return n;
}

/**
 * Cuts `all` into the page the query asks for: `page` from 1, `per_page` 20 by
 * default and clamped to 1..200 as DigitalOcean does. Links are absolute URLs on
 * `baseUrl` that keep the request's other query parameters; only the ones that
 * make sense are present, and `links` is `{}` for a single page. `view`, when
 * given, makes the answer's copy of each item on the page only.
 */
export function paginate<T, U = T>(all: readonly T[], url: URL, baseUrl: string, view?: (item: T) => U): Page<U> {
  const page = Math.max(1, positiveInt(url.searchParams.get("page"), "page") ?? 1);
  const requested = positiveInt(url.searchParams.get("per_page"), "per_page") ?? DEFAULT_PER_PAGE;
  const perPage = Math.min(MAX_PER_PAGE, Math.max(1, requested));
  const lastPage = Math.max(1, Math.ceil(all.length / perPage));
  const onPage = all.slice((page - 1) * perPage, page * perPage);
  const items = view ? onPage.map(view) : (onPage as unknown as U[]);

  const link = (p: number) => {
    const target = new URL(url.pathname, baseUrl);
    url.searchParams.forEach((v, k) => target.searchParams.set(k, v));
    target.searchParams.set("page", String(p));
    target.searchParams.set("per_page", String(perPage));
    return target.toString();
  };
  const pages: NonNullable<PageLinks["pages"]> = {};
  if (page > 1) {
    pages.first = link(1);
    pages.prev = link(Math.min(page - 1, lastPage));
  }
  if (page < lastPage) {
    pages.next = link(page + 1);
    pages.last = link(lastPage);
  }
  return { items, links: Object.keys(pages).length > 0 ? { pages } : {}, meta: { total: all.length } };
}
