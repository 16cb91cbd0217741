// Safety words: four words both sides derive from the two DTLS fingerprints in use. If someone
// sat in the middle, each side would see a different certificate and so different words.

const WORD_COUNT = 4;

/**
 * @param {{local: string, remote: string}} pair fingerprints as getStats() reports them
 * @param {string[]} words the word list of the viewer's language
 * @returns {Promise<string[]>}
 */
export async function safetyWords(pair, words) {
  const material = [pair.local, pair.remote].map((f) => f.toLowerCase()).sort().join("|");
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(material)),
  );
  const chosen = [];
  for (let i = 0; i < WORD_COUNT; i += 1) {
    const index = (digest[2 * i] << 8) | digest[2 * i + 1];
    chosen.push(words[index % words.length]);
  }
  return chosen;
}
