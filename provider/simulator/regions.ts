import type { Region } from "../api/types";

const SIZES = ["s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-2gb", "s-2vcpu-4gb", "s-4vcpu-8gb", "s-8vcpu-16gb"];
const FULL = ["private_networking", "backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"];

function region(slug: string, name: string, features: string[] = FULL, available = true): Region {
  return { slug, name, features: [...features], available, sizes: available ? [...SIZES] : [] };
}

/**
 * The regions a fresh simulator knows. Most accept image transfers; `nyc2` lacks
 * `image_transfer` and `sfo1` is unavailable, so refusals can be exercised.
 */
export function defaultRegions(): Region[] {
  return [
    region("nyc1", "New York 1"),
    region("nyc2", "New York 2", FULL.filter((f) => f !== "image_transfer")),
    region("nyc3", "New York 3"),
    region("sfo1", "San Francisco 1", FULL, false),
    region("sfo2", "San Francisco 2"),
    region("sfo3", "San Francisco 3"),
    region("ams3", "Amsterdam 3"),
    region("sgp1", "Singapore 1"),
    region("lon1", "London 1"),
    region("fra1", "Frankfurt 1"),
    region("tor1", "Toronto 1"),
    region("blr1", "Bangalore 1"),
    region("syd1", "Sydney 1"),
  ];
}
