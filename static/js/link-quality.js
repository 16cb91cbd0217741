// @ts-check
// Whether this browser's own link is weak, judged once a second from live getStats(): the send
// estimate of the selected candidate pair and the loss of what arrives. No UI code here.

// A link is weak below this estimate of what can be sent (bits/s): audio (~40 kbit/s) plus a
// small video of ~10 frames a second still fit, more does not.
export const WEAK_BELOW_BPS = 350_000;
// ... or when more than this share of the packets that should have arrived did not.
export const WEAK_LOSS = 0.08;
// Good again only clearly above the weak line, so that a link near it does not flap.
export const GOOD_ABOVE_BPS = 500_000;
export const GOOD_LOSS = 0.02;
// Samples in a row before the verdict changes: weak quickly, good again only after a while.
export const WEAK_AFTER_SAMPLES = 2;
export const GOOD_AFTER_SAMPLES = 5;
export const SAMPLE_INTERVAL_MS = 1000;
// What a capped video leaves of the estimate for audio and headers (bits/s), and its least cap.
export const AUDIO_ROOM_BPS = 64_000;
export const MIN_VIDEO_CAP_BPS = 60_000;

/**
 * One reading of a connection: the send estimate and the packet counts received so far.
 * @typedef {{sendEstimate: number | null, received: number, lost: number}} LinkSample
 */

/**
 * @param {RTCPeerConnection} pc
 * @returns {Promise<LinkSample>}
 */
export async function sampleLink(pc) {
  const report = await pc.getStats();
  /** @type {number | null} */
  let sendEstimate = null;
  let received = 0;
  let lost = 0;
  report.forEach((entry) => {
    if (entry.type === "inbound-rtp") {
      received += entry.packetsReceived || 0;
      lost += Math.max(0, entry.packetsLost || 0);
    } else if (entry.type === "transport" && entry.selectedCandidatePairId) {
      const pair = report.get(entry.selectedCandidatePairId);
      if (pair && typeof pair.availableOutgoingBitrate === "number") sendEstimate = pair.availableOutgoingBitrate;
    }
  });
  return { sendEstimate, received, lost };
}

/**
 * The video cap that leaves room for audio within a send estimate (bits/s).
 * @param {number} sendEstimate
 */
export function videoCap(sendEstimate) {
  return Math.max(MIN_VIDEO_CAP_BPS, Math.round(sendEstimate * 0.8 - AUDIO_ROOM_BPS));
}

/** The weak/good verdict with hysteresis, from successive samples of the same connections. */
export class LinkVerdict {
  constructor() {
    this.weak = false;
    this.streak = 0;
    /** @type {{received: number, lost: number} | null} */
    this.previous = null;
  }

  /**
   * Take one reading (summed over this page's connections); return whether the verdict changed.
   * @param {LinkSample} sample
   */
  update(sample) {
    const previous = this.previous;
    this.previous = { received: sample.received, lost: sample.lost };
    if (!previous || sample.received < previous.received) return false; // first, or a new connection
    const expected = sample.received - previous.received + Math.max(0, sample.lost - previous.lost);
    const loss = expected > 0 ? Math.max(0, sample.lost - previous.lost) / expected : 0;
    const estimate = sample.sendEstimate;
    const poor = loss > WEAK_LOSS || (estimate !== null && estimate < WEAK_BELOW_BPS);
    const good = loss < GOOD_LOSS && (estimate === null || estimate > GOOD_ABOVE_BPS);
    const towards = this.weak ? good : poor;
    this.streak = towards ? this.streak + 1 : 0;
    if (this.streak < (this.weak ? GOOD_AFTER_SAMPLES : WEAK_AFTER_SAMPLES)) return false;
    this.weak = !this.weak;
    this.streak = 0;
    return true;
  }
}

/**
 * Sample this page's connections every second; call `onChange(weak, sendEstimate)` when the
 * verdict changes, and `onSample(sendEstimate)` on every reading while weak (to adjust a cap).
 */
export class LinkQuality {
  /**
   * @param {{connections: () => RTCPeerConnection[],
   *          onChange: (weak: boolean, sendEstimate: number | null) => void,
   *          onWeakSample: (sendEstimate: number | null) => void}} options
   */
  constructor({ connections, onChange, onWeakSample }) {
    this.connections = connections;
    this.onChange = onChange;
    this.onWeakSample = onWeakSample;
    this.verdict = new LinkVerdict();
    this.timer = window.setInterval(() => this.sample().catch(() => undefined), SAMPLE_INTERVAL_MS);
  }

  get weak() {
    return this.verdict.weak;
  }

  async sample() {
    const samples = await Promise.all(this.connections().map((pc) => sampleLink(pc)));
    if (!samples.length) return;
    const estimates = samples.flatMap((s) => (s.sendEstimate === null ? [] : [s.sendEstimate]));
    const sum = {
      sendEstimate: estimates.length ? Math.min(...estimates) : null,
      received: samples.reduce((total, s) => total + s.received, 0),
      lost: samples.reduce((total, s) => total + s.lost, 0),
    };
    if (this.verdict.update(sum)) this.onChange(this.verdict.weak, sum.sendEstimate);
    else if (this.verdict.weak) this.onWeakSample(sum.sendEstimate);
  }

  stop() {
    window.clearInterval(this.timer);
  }
}
