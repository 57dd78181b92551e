import type { SendSlot } from "../client/send-slot";

/** Settles one key of a batch; a key settled twice keeps its first outcome. */
export interface BatchAnswers<K, V> {
  resolve(key: K, value: V): void;
  reject(key: K, error: unknown): void;
}

/** Serves a closed batch: the first request it sends goes out on `slot`. */
export type ServeBatch<K, V> = (keys: K[], slot: SendSlot, answers: BatchAnswers<K, V>) => Promise<void>;

interface Waiting<V> {
  promise: Promise<V>;
  resolve(value: V): void;
  reject(error: unknown): void;
  settled: boolean;
}

/**
 * Gathers the keys asked for while a batch waits for its rate-limit slot, and
 * serves them together once it is granted. A key joins only a batch whose
 * request has not been sent, so every answer was read after it was asked for:
 * a read that starts after a write ended sees that write. The window is the
 * wait for the rate limit, not a timer: with the limit idle a lone key is sent
 * at once; with requests queued, keys pile up behind them.
 */
export class SlotBatcher<K, V> {
  private open: Map<K, Waiting<V>> | undefined;

  constructor(
    private readonly reserveSlot: () => Promise<SendSlot>,
    private readonly serve: ServeBatch<K, V>,
  ) {}

  get(key: K): Promise<V> {
    const batch = this.open ?? this.openBatch();
    let waiting = batch.get(key);
    if (!waiting) batch.set(key, (waiting = pending<V>()));
    return waiting.promise;
  }

  private openBatch(): Map<K, Waiting<V>> {
    const batch = new Map<K, Waiting<V>>();
    this.open = batch;
    const close = () => {
      if (this.open === batch) this.open = undefined;
    };
    this.reserveSlot().then(
      (slot) => {
        close();
        void this.run(batch, slot);
      },
      (error: unknown) => {
        close();
        for (const waiting of batch.values()) waiting.reject(error);
      },
    );
    return batch;
  }

  private async run(batch: Map<K, Waiting<V>>, slot: SendSlot): Promise<void> {
    const answers: BatchAnswers<K, V> = {
      resolve: (key, value) => settle(batch.get(key), (w) => w.resolve(value)),
      reject: (key, error) => settle(batch.get(key), (w) => w.reject(error)),
    };
    try {
      await this.serve([...batch.keys()], slot, answers);
    } catch (error) {
      for (const key of batch.keys()) answers.reject(key, error);
    } finally {
      slot.releaseUnused();
    }
  }
}

function settle<V>(waiting: Waiting<V> | undefined, how: (waiting: Waiting<V>) => void): void {
  if (!waiting || waiting.settled) return;
  waiting.settled = true;
  how(waiting);
}

function pending<V>(): Waiting<V> {
  let resolve!: (value: V) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<V>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers await it; a rejection nobody awaits (a caller that gave up) must not crash the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject, settled: false };
}
