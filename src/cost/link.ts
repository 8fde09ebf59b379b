/** Links: a transfer takes bytes·8 / rate plus a fixed latency. */

export interface LinkSpec {
  readonly id: string;
  readonly name: string;
  readonly uplinkBitsPerSecond: number;
  readonly downlinkBitsPerSecond: number;
  /** One-way latency paid per transfer. */
  readonly latencySeconds: number;
  readonly source: string;
}

export function transferSeconds(bytes: number, bitsPerSecond: number, latencySeconds: number): number {
  if (bytes <= 0) return 0;
  return (bytes * 8) / bitsPerSecond + latencySeconds;
}

export function uplinkSeconds(link: LinkSpec, bytes: number): number {
  return transferSeconds(bytes, link.uplinkBitsPerSecond, link.latencySeconds);
}

export function downlinkSeconds(link: LinkSpec, bytes: number): number {
  return transferSeconds(bytes, link.downlinkBitsPerSecond, link.latencySeconds);
}
