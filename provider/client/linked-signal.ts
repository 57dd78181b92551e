/**
 * A signal aborted with the reason of the first of `sources` to abort. Unlike
 * AbortSignal.any it lets go of them once the call ends, so the client's
 * long-lived close signal does not keep an entry for every call ever made.
 */
export function linkedSignal(sources: AbortSignal[]): { signal: AbortSignal; unlink(): void } {
  const linked = new AbortController();
  const onAbort = (event: Event) => linked.abort((event.target as AbortSignal).reason);
  for (const source of sources) {
    if (source.aborted) linked.abort(source.reason);
    else source.addEventListener("abort", onAbort, { once: true });
  }
  return { signal: linked.signal, unlink: () => sources.forEach((source) => source.removeEventListener("abort", onAbort)) };
}
