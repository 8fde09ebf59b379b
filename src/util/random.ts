/**
 * mulberry32: a 32-bit seeded PRNG (public-domain construction by Tommy Ettinger). Small, fast
 * and the same on every machine, so generated instances and traces are reproducible from their
 * seed; not meant for statistics-grade simulation or cryptography.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
