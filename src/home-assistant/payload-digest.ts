/**
 * A 53-bit digest of a published payload (cyrb53), so the bridge can tell whether a config
 * changed without keeping a second copy of it: the broker already holds the retained message.
 * Issue 17: each device's configs (about 2.4 KB for a sensor) were kept whole for the compare.
 * A collision (about 1 in 2^53 per change) would only skip re-sending one changed config.
 */
export function payloadDigest(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
