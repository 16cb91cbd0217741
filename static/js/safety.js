// @ts-check
// Safety words: four groups of digits every side derives from the keys in use: in a call of two,
// both DTLS fingerprints; in a group, every participant's identity key. If someone sat in the
// middle, each side would see a different certificate or key, and so different digits.
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
 * @param {string[]} keys every key in use, in any order (each page lists them in its own order)
 * @returns {Promise<string[]>} the same groups on every page that sees the same keys, such as "048"
 */
export async function safetyWords(keys) {
  const material = [...keys].sort().join("|");
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
