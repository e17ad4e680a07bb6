import type { Labels } from "./alert.js";

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

/**
 * The fingerprint Prometheus and Alertmanager compute for a label set (FNV-1a 64 over the
 * sorted names and values, each followed by 0xff), as 16 hex digits. Using the same function
 * means an alert that arrives without a fingerprint deduplicates with one that has it.
 * https://github.com/prometheus/common/blob/main/model/labelset.go (LabelSet.Fingerprint)
 */
export function labelsFingerprint(labels: Labels): string {
  const encoder = new TextEncoder();
  let hash = FNV_OFFSET;
  const mix = (byte: number) => {
    hash ^= BigInt(byte);
    hash = (hash * FNV_PRIME) & MASK_64;
  };
  for (const name of Object.keys(labels).sort()) {
    for (const byte of encoder.encode(name)) mix(byte);
    mix(SEPARATOR);
    for (const byte of encoder.encode(labels[name] ?? "")) mix(byte);
    mix(SEPARATOR);
  }
  return hash.toString(16).padStart(16, "0");
}
