import { KNOWN_REGION_SLUGS } from "./known-regions";
import { containsUnknown, UNKNOWN } from "./unknown";

/** One problem with one input, in the shape Pulumi's `check` reports. */
export interface Failure {
  property: string;
  reason: string;
}

/**
 * Offline validation rules shared by every resource's `check`. Each returns the
 * normalized value or pushes a failure that names the property, the value and
 * the fix; none calls the API, so `pulumi preview` stays free.
 */
export class InputChecker {
  readonly failures: Failure[] = [];
  /** Doubts that do not stop the run, for `check` to write where `pulumi preview` shows them. */
  readonly warnings: string[] = [];

  fail(property: string, reason: string): undefined {
    this.failures.push({ property, reason });
    return undefined;
  }

  /**
   * Refuses every input `resource` does not have, so a typo (`region` beside
   * `regions`) fails instead of being silently ignored. `__provider` is
   * Pulumi's own; an input set to undefined is absent.
   */
  knownOnly(resource: string, news: Record<string, unknown>, known: readonly string[]): void {
    for (const [property, value] of Object.entries(news)) {
      if (value === undefined || property === "__provider" || known.includes(property)) continue;
      const near = known.find((name) => closeTo(name, property));
      this.fail(
        property,
        `${resource} has no input ${JSON.stringify(property)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}; ` +
          `its inputs are ${known.join(", ")}`,
      );
    }
  }

  /**
   * A DigitalOcean numeric id. Strings of digits are accepted because
   * `@pulumi/digitalocean` exposes ids (`droplet.id`) as strings.
   */
  id(property: string, value: unknown, findWith: string): number | string | undefined {
    if (value === undefined || containsUnknown(value)) return value as undefined;
    const n = digitsAsNumber(value);
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n <= 0) {
      return this.fail(
        property,
        `${property} must be a positive integer DigitalOcean id (a number or a string of digits), got ${show(value)}; ` +
          `find ids with \`${findWith}\``,
      );
    }
    return n;
  }

  /**
   * A region slug such as `nyc3` or `ams3`: lower-case letters then digits. A
   * well-formed slug DigitalOcean did not have at release is only warned about:
   * it may be a region opened since, and `up` checks it against the API.
   */
  regionSlug(property: string, value: unknown): string | undefined {
    if (containsUnknown(value)) return value as string;
    if (typeof value !== "string" || !REGION_SLUG.test(value)) {
      return this.fail(
        property,
        `${property} must be a DigitalOcean region slug like "nyc3" or "ams3", got ${show(value)}; ` +
          `list them with \`doctl compute region list\``,
      );
    }
    if (!KNOWN_REGION_SLUGS.includes(value)) {
      this.warnings.push(
        `warning: ${property} is ${show(value)}, not one of the region slugs DigitalOcean had when this package was released ` +
          `(${KNOWN_REGION_SLUGS.join(", ")}). If it is a region opened since, ignore this; otherwise fix it: ` +
          `\`pulumi up\` refuses a region DigitalOcean does not list (\`doctl compute region list\`)`,
      );
    }
    return value;
  }

  /**
   * A list input given as something else. A single string, the likeliest slip
   * (`regions: "ams3"`), gets the fix spelled out: `["ams3"]`.
   */
  notAList(property: string, value: unknown, items: string, example: string): undefined {
    const fix = typeof value === "string" ? `write ${JSON.stringify([value])}` : `like ${example}`;
    return this.fail(property, `${property} must be a list of ${items}, got ${show(value)}; ${fix}`);
  }

  /** Free text DigitalOcean stores on the image (name, description). */
  text(property: string, value: unknown, { maxLength, allowEmpty }: { maxLength: number; allowEmpty: boolean }): string | undefined {
    if (value === undefined || containsUnknown(value)) return value as undefined;
    if (typeof value !== "string") return this.fail(property, `${property} must be a string, got ${show(value)}`);
    if (CONTROL_CHARACTER.test(value)) {
      return this.fail(property, `${property} contains a control character (a line break, tab or similar), got ${show(value)}; use printable text`);
    }
    if (!allowEmpty && value.trim() === "") {
      return this.fail(property, `${property} must not be empty; leave it out to keep the image's current ${property}`);
    }
    if (value.length > maxLength) {
      return this.fail(property, `${property} is ${value.length} characters long; DigitalOcean accepts at most ${maxLength}`);
    }
    return value;
  }

  /** Tag names as DigitalOcean's tag API accepts them, de-duplicated and sorted. */
  tags(property: string, value: unknown): string[] | undefined {
    if (value === undefined || (containsUnknown(value) && !Array.isArray(value))) return value as undefined;
    if (!Array.isArray(value)) return this.notAList(property, value, "tag names", '["dr", "web"]');
    const valid: string[] = [];
    // Values not known until apply are checked then; the known ones are checked now.
    const pending = value.some(containsUnknown);
    value.forEach((tag, i) => {
      if (containsUnknown(tag)) return;
      if (typeof tag !== "string" || !TAG_NAME.test(tag)) {
        this.fail(
          `${property}[${i}]`,
          `tag ${show(tag)} is not a valid DigitalOcean tag: use 1 to 255 letters, digits, ":", "-" or "_"`,
        );
      } else {
        // DigitalOcean tags are case-insensitive ("case stable"): two spellings are one tag.
        const twin = valid.find((other) => other !== tag && other.toLowerCase() === tag.toLowerCase());
        if (twin !== undefined) {
          this.fail(`${property}[${i}]`, `tag ${show(tag)} is the same DigitalOcean tag as ${show(twin)} (tags ignore case); list it once`);
        }
        valid.push(tag);
      }
    });
    return pending ? (value as string[]) : [...new Set(valid)].sort();
  }

  /**
   * How long a create or update may wait for DigitalOcean's actions. Strings of
   * digits are accepted, as for ids: `pulumi.Config.get` returns strings.
   */
  waitTimeoutSeconds(property: string, value: unknown): number | undefined {
    if (value === undefined || containsUnknown(value)) return value as undefined;
    const n = digitsAsNumber(value);
    if (typeof n !== "number" || !Number.isInteger(n) || n < MIN_WAIT_SECONDS || n > MAX_WAIT_SECONDS) {
      return this.fail(
        property,
        `${property} must be a whole number of seconds from ${MIN_WAIT_SECONDS} to ${MAX_WAIT_SECONDS} (a number or a string of digits), got ${show(value)}; ` +
          `leave it out for the default of ${DEFAULT_WAIT_SECONDS}`,
      );
    }
    return n;
  }
}

/**
 * A string of digits as the number it spells, anything else as it is: numeric
 * inputs accept both, as `pulumi.Config.get` returns strings.
 */
export function digitsAsNumber(value: unknown): unknown {
  return typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
}

/** DigitalOcean's slugs are 3 letters and a digit today; allow a little room for new ones. */
const REGION_SLUG = /^[a-z]{2,5}\d{1,2}$/;
const TAG_NAME = /^[A-Za-z0-9:_-]{1,255}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001F\u007F]/;

/** Whether `b` looks like a slip of `a`: a plural dropped or added, or a letter or two off. */
function closeTo(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === y || x === `${y}s` || y === `${x}s`) return true;
  if (Math.abs(x.length - y.length) > 2) return false;
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[y.length] <= 2;
}

/** A transfer of a large image can take well over an hour; a day is the outer bound anyone should wait in one run. */
export const DEFAULT_WAIT_SECONDS = 3600;
const MIN_WAIT_SECONDS = 10;
export const MAX_WAIT_SECONDS = 86_400;

/** A value as it appears in an error message: short, quoted when a string, and named when not known yet. */
export function show(value: unknown): string {
  if (value === UNKNOWN) return "(a value known only after apply)";
  // JSON would show NaN and Infinity as null.
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
