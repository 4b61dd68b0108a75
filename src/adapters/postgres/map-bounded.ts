/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping input
 * order in the result. Used so a sick database never gets more than a few new
 * triage connections at once.
 *
 * @param limit maximum concurrent calls (values below 1 count as 1)
 * @throws the first rejection of `fn`, after the calls already started have settled
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  const workers = Array.from({ length: Math.min(Math.max(1, Math.floor(limit)), items.length) }, worker);
  const settled = await Promise.allSettled(workers);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return results;
}
