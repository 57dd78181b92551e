import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const PACKAGE_NAME = "pulumi-digitalocean-image-actions";

/**
 * `pulumi-digitalocean-image-actions/<version>`, the version read from the
 * package's own package.json. It is looked up by walking up from this file,
 * because the depth differs between the sources and the published `dist/`.
 */
export const USER_AGENT = `${PACKAGE_NAME}/${packageVersion()}`;

function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === "string") return pkg.version;
    } catch {
      // No readable package.json here; keep walking up.
    }
    if (dirname(dir) === dir) return "unknown";
  }
}
