import { containsUnknown } from "./unknown";

/**
 * Collects what `diff` decides property by property. Unknown new values (the
 * preview sentinel) count as changes, and as replacements where the property
 * forces a new physical resource, so a preview never under-reports.
 */
export class DiffCollector {
  private readonly changed = new Set<string>();
  private readonly replaced = new Set<string>();

  /** Records `property` as changed when `news` is unknown or differs from `olds` by `equal`. */
  compare<T>(property: string, news: T, olds: T, options: { replaces?: boolean; equal?: (a: T, b: T) => boolean } = {}): void {
    const equal = options.equal ?? sameValue;
    if (containsUnknown(news) || !equal(news, olds)) {
      this.changed.add(property);
      if (options.replaces) this.replaced.add(property);
    }
  }

  /** Records a change that a rule outside `compare` found. */
  change(property: string): void {
    this.changed.add(property);
  }

  result(): { changes: boolean; replaces: string[]; deleteBeforeReplace: false } {
    return { changes: this.changed.size > 0, replaces: [...this.replaced].sort(), deleteBeforeReplace: false };
  }
}

/** Structural equality for JSON-like values (what Pulumi stores), ignoring key order. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** Order-insensitive equality for string lists such as regions and tags; undefined equals empty. */
export function sameSet(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const left = new Set(a ?? []);
  const right = new Set(b ?? []);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

/**
 * Tag lists as DigitalOcean sees them: tags are case stable, so `ENV:PROD`
 * declared on an account that has `env:prod` is that tag, carried under the
 * spelling it was first created with, and not a change.
 */
export function sameTags(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return sameSet(a?.map((tag) => tag.toLowerCase()), b?.map((tag) => tag.toLowerCase()));
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)))
      : v,
  ) ?? "undefined";
}
