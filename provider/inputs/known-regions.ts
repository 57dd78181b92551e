/**
 * DigitalOcean's datacenter region slugs known when this version was released,
 * from the slugs DigitalOcean's API reference, `doctl compute region list` and
 * its regional-availability page show (atl1 opened in 2024, ric1 in 2025).
 *
 * Only for a warning in `check`, which makes no API call: DigitalOcean opens
 * new regions, so a slug missing here is not refused. `pulumi up` validates
 * every target region against `GET /v2/regions`.
 */
export const KNOWN_REGION_SLUGS: readonly string[] = [
  "ams2",
  "ams3",
  "atl1",
  "blr1",
  "fra1",
  "lon1",
  "nyc1",
  "nyc2",
  "nyc3",
  "ric1",
  "sfo1",
  "sfo2",
  "sfo3",
  "sgp1",
  "syd1",
  "tor1",
];
