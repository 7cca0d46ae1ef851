/**
 * `compute` with each key's result kept: the first call for a key computes it (a promise too,
 * so calls made while it is pending share it), later calls return the same result.
 */
export function memoized<K, V>(compute: (key: K) => V): (key: K) => V {
  const results = new Map<K, V>();
  return (key) => {
    if (results.has(key)) return results.get(key) as V;
    const result = compute(key);
    results.set(key, result);
    return result;
  };
}
