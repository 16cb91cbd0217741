"""The group E2EE frame format and the encrypting worker, run in real Chromium on our own modules.

No call here: frames are made up in the page and pushed through `static/js/e2ee-worker.js` the way
a browser without RTCRtpScriptTransform does it (transferred streams), so every byte can be read.
"""

from __future__ import annotations

import pytest

from bench.frame_encryption import FrameSealer

# Load the page's own modules; `run` takes a body that sees `frame` (e2ee-frame.js) and the helpers
# below, and returns JSON. Playwright evaluates it through the DevTools protocol, outside the CSP.
HARNESS = """async () => {
  const frame = await import('/static/js/e2ee-frame.js');
  const secret = (n) => new Uint8Array(32).fill(n);
  const bytes = (n, start = 0) => Uint8Array.from({length: n}, (_, i) => (start + i) % 256);
  const trailer = (data) => {
    const view = new DataView(data.buffer, data.byteOffset + data.length - 8);
    return {keyId: view.getUint32(0), counter: view.getUint32(4)};
  };
  // Push frames through a fresh worker; resolves with what came out (as plain arrays).
  const throughWorker = async (messages, streams) => {
    const worker = new Worker('/static/js/e2ee-worker.js', {type: 'module'});
    for (const message of messages) worker.postMessage(await message);
    const results = [];
    for (const {kind, direction, frames} of streams) {
      const out = [];
      const readable = new ReadableStream({
        start(c) { frames.forEach((f) => c.enqueue(f)); c.close(); }});
      const writable = new WritableStream({write(f) { out.push(f); }});
      const done = new Promise((resolve) => { const t = setInterval(() => {
        if (out.length >= frames.length) { clearInterval(t); resolve(); } }, 20);
        setTimeout(() => { clearInterval(t); resolve(); }, 2000); });
      worker.postMessage({op: 'streams', readable, writable, options: {kind, direction}},
                         [readable, writable]);
      results.push(done.then(() => out.map(
        (f) => ({type: f.type, data: Array.from(new Uint8Array(f.data))}))));
    }
    const outputs = await Promise.all(results);
    worker.terminate();
    return outputs;
  };
  BODY
}"""


@pytest.fixture
def run(browser, web):
    context = browser.new_context(base_url=web.url)
    page = context.new_page()
    page.goto("/")
    yield lambda body: page.evaluate(HARNESS.replace("BODY", body))
    context.close()


def test_codec_header_stays_clear_and_the_rest_is_sealed(run):
    result = run("""
      const key = await frame.frameKey(7, secret(1));
      const out = {};
      for (const [name, kind, type] of [['key', 'video', 'key'], ['delta', 'video', 'delta'],
                                        ['audio', 'audio', undefined]]) {
        const plain = bytes(200, 50);
        const sealed = await frame.encryptFrame(key, 3, plain, kind, type);
        const opened = await frame.decryptFrame(key, sealed, kind, type);
        out[name] = {length: sealed.length, head: Array.from(sealed.subarray(0, 12)),
                     plainHead: Array.from(plain.subarray(0, 12)), trailer: trailer(sealed),
                     keyIdOf: frame.keyIdOf(sealed),
                     roundTrip: opened.every((b, i) => b === plain[i])
                       && opened.length === plain.length};
      }
      return out;
    """)
    for name, clear in (("key", 10), ("delta", 3), ("audio", 1)):
        sealed = result[name]
        assert sealed["length"] == 200 + 16 + 8  # tag and trailer
        assert sealed["head"][:clear] == sealed["plainHead"][:clear]
        assert sealed["head"][clear:] != sealed["plainHead"][clear:]  # the payload is ciphertext
        assert sealed["trailer"] == {"keyId": 7, "counter": 3}
        assert sealed["keyIdOf"] == 7
        assert sealed["roundTrip"] is True


def test_altered_frames_and_wrong_keys_do_not_decrypt(run):
    result = run("""
      const key = await frame.frameKey(7, secret(1));
      const other = await frame.frameKey(7, secret(2));
      const sealed = await frame.encryptFrame(key, 0, bytes(120), 'video', 'key');
      const attempt = async (k, data) => frame.decryptFrame(k, data, 'video', 'key')
        .then(() => 'opened', () => 'refused');
      const flip = (i) => { const copy = sealed.slice(); copy[i] ^= 1; return copy; };
      return {wrongKey: await attempt(other, sealed), header: await attempt(key, flip(0)),
              body: await attempt(key, flip(40)),
              counter: await attempt(key, flip(sealed.length - 1)),
              keyId: await attempt(key, flip(sealed.length - 5)),
              intact: await attempt(key, sealed)};
    """)
    assert result == {"wrongKey": "refused", "header": "refused", "body": "refused",
                      "counter": "refused", "keyId": "refused", "intact": "opened"}


def test_the_worker_never_reuses_a_counter_under_one_key(run):
    """Audio and video of one sender share the key, so they must share one counter."""
    result = run("""
      const key = await frame.frameKey(9, secret(3));
      const video = Array.from({length: 40}, (_, i) => ({type: i % 10 ? 'delta' : 'key',
                                                           data: bytes(300, i).buffer}));
      const audio = Array.from({length: 40}, (_, i) => ({data: bytes(60, i).buffer}));
      const [sentVideo, sentAudio] = await throughWorker(
        [{op: 'send-key', frameKey: key}],
        [{kind: 'video', direction: 'send', frames: video},
         {kind: 'audio', direction: 'send', frames: audio}]);
      const all = [...sentVideo, ...sentAudio].map((f) => trailer(Uint8Array.from(f.data)));
      return {count: all.length, keyIds: [...new Set(all.map((t) => t.keyId))],
              counters: all.map((t) => t.counter)};
    """)
    assert result["count"] == 80
    assert result["keyIds"] == [9]
    assert len(set(result["counters"])) == 80  # never one counter twice under key 9


def test_the_worker_drops_what_it_cannot_decrypt_and_never_sends_without_a_key(run):
    result = run("""
      const key = await frame.frameKey(11, secret(4));
      const sealed = await frame.encryptFrame(key, 0, bytes(300), 'video', 'key');
      const clear = bytes(300);
      const stranger = await frame.encryptFrame(await frame.frameKey(12, secret(5)), 0, bytes(300),
                                                 'video', 'key');
      const [received] = await throughWorker([{op: 'receive-key', frameKey: key}],
        [{kind: 'video', direction: 'receive', frames: [sealed, clear, stranger].map(
          (d) => ({type: 'key', data: d.buffer}))}]);
      const [sentWithoutKey] = await throughWorker([],
        [{kind: 'video', direction: 'send', frames: [{type: 'key', data: bytes(300).buffer}]}]);
      const [clearRoom] = await throughWorker([{op: 'encrypt', on: false}],
        [{kind: 'video', direction: 'receive', frames: [{type: 'key', data: clear.buffer}]}]);
      return {received: received.map((f) => f.data.length), firstIsPlain:
                received.length > 0 && received[0].data.every((b, i) => b === clear[i]),
              sentWithoutKey: sentWithoutKey.length,
              clearRoom: clearRoom.map((f) => f.data.length)};
    """)
    # Only the frame sealed with a key it holds comes out, decrypted; the clear frame and the
    # frame under an unknown key are dropped in an encrypted room.
    assert result["received"] == [300]
    assert result["firstIsPlain"] is True
    assert result["sentWithoutKey"] == 0
    # A room where someone's browser cannot encrypt: frames pass in the clear (and every page
    # says so).
    assert result["clearRoom"] == [300]


def test_the_documented_format_is_what_the_browser_writes(run):
    """bench/frame_encryption.py follows docs/e2ee.md independently: both give the same bytes."""
    sealed = run("""
      const key = await frame.frameKey(5, secret(1));
      const out = [];
      const cases = [['video', 'key', 0], ['video', 'delta', 1], ['audio', undefined, 2]];
      for (const [kind, type, start] of cases) {
        const plain = bytes(120, start);
        if (kind === 'video') plain[0] = type === 'key' ? 0x10 : 0x11;  // the VP8 key frame bit
        out.push(Array.from(await frame.encryptFrame(key, out.length, plain, kind, type)));
      }
      return out;
    """)
    sealer = FrameSealer(5, bytes([1]) * 32)
    expected = []
    for kind, first, start in (("video", 0x10, 0), ("video", 0x11, 1), ("audio", None, 2)):
        plain = bytearray((start + i) % 256 for i in range(120))
        if first is not None:
            plain[0] = first
        expected.append(list(sealer.seal(bytes(plain), kind)))
    assert sealed == expected
