// @ts-check
// Safety words: four groups of digits both sides derive from the two DTLS fingerprints in use. If
// someone sat in the middle, each side would see a different certificate and so different digits.
//
// Digits, not words of a language: a counsellor reading Dutch and a client reading French must
// compare the very same thing, and nouns from each viewer's own word list differ between them.
// Everyone reads these digits, whatever their interface language, and can say them in the
// language they speak together. Four groups of three digits carry about 40 bits, as many as four
// words drawn from a list of a thousand.

const GROUP_COUNT = 4;
const GROUP_DIGITS = 3;
const BYTES_PER_GROUP = 4; // a 32-bit number per group: modulo 1000 leaves no bias worth counting

/**
 * @param {{local: string, remote: string}} pair fingerprints as getStats() reports them
 * @returns {Promise<string[]>} the same groups on both ends of the connection, such as "048"
 */
export async function safetyWords(pair) {
  const material = [pair.local, pair.remote].map((f) => f.toLowerCase()).sort().join("|");
  const digest = new DataView(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(material)),
  );
  const groups = [];
  for (let i = 0; i < GROUP_COUNT; i += 1) {
    const number = digest.getUint32(i * BYTES_PER_GROUP) % 10 ** GROUP_DIGITS;
    groups.push(String(number).padStart(GROUP_DIGITS, "0"));
  }
  return groups;
}
