import type { PageLinks, PageMeta } from "../api/types";

/** DigitalOcean's maximum page size: the fewest requests for a full listing. */
export const PER_PAGE = 200;

/** One page of a collection as the transport returned it. */
export interface Page<T> {
  items: T[];
  links?: PageLinks;
  meta?: PageMeta;
}

/**
 * The path (with query) of the page after `page`, or undefined after the last
 * one. Follows `links.pages.next` when it points at the same API; otherwise
 * (absent or foreign link) counts pages against `meta.total`, so a link can
 * never send the token to another host.
 */
export function nextPagePath(currentPath: string, page: Page<unknown>, apiOrigin: string, fetched: number): string | undefined {
  const next = page.links?.pages?.next;
  if (next !== undefined) {
    try {
      const url = new URL(next, apiOrigin);
      if (url.origin === apiOrigin) return `${url.pathname}${url.search}`;
    } catch {
      // An unparsable link: fall back to counting.
    }
  }
  const total = page.meta?.total;
  if (total === undefined || fetched >= total || page.items.length === 0) return undefined;
  const url = new URL(currentPath, apiOrigin);
  const current = Number(url.searchParams.get("page") ?? "1");
  url.searchParams.set("page", String(current + 1));
  return `${url.pathname}${url.search}`;
}

/**
 * Every item of a collection, page by page as iteration proceeds: `fetchPage`
 * reads the page at a request target, starting at `firstTarget`.
 */
export async function* itemsOfEveryPage<T>(firstTarget: string, fetchPage: (target: string) => Promise<Page<T>>, apiOrigin: string): AsyncGenerator<T> {
  let next: string | undefined = firstTarget;
  let fetched = 0;
  while (next !== undefined) {
    const current: string = next;
    const page = await fetchPage(current);
    fetched += page.items.length;
    yield* page.items;
    next = nextPagePath(current, page, apiOrigin, fetched);
  }
}

/** Whether a page after page number `pageNumber` of `perPage` items exists, by its next link or by the total. */
export function hasPageAfter(page: Page<unknown>, pageNumber: number, perPage: number, total: number): boolean {
  return page.links?.pages?.next !== undefined || pageNumber * perPage < total;
}
