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
// A new connection's estimate starts at 300 kbit/s and, towards the relay (REMB, no probing),
// climbs ~35 kbit/s a second: it tells nothing about the link for this many readings.
export const ESTIMATE_WARMUP_SAMPLES = 12;
// A stream's loss counts only over at least this many packets a second (audio sends ~50).
export const MIN_PACKETS_FOR_LOSS = 10;
// What a capped video leaves of the estimate for audio and headers (bits/s), and its least cap.
export const AUDIO_ROOM_BPS = 64_000;
export const MIN_VIDEO_CAP_BPS = 60_000;

/**
 * One reading of a connection: the send estimate, and per received stream (by SSRC) the packets
 * received and lost so far.
 * @typedef {{sendEstimate: number | null, streams: Map<string, {received: number, lost: number}>}} LinkSample
 */

/**
 * @param {RTCPeerConnection} pc
 * @returns {Promise<LinkSample>}
 */
export async function sampleLink(pc) {
  const report = await pc.getStats();
  /** @type {number | null} */
  let sendEstimate = null;
  const streams = new Map();
  report.forEach((entry) => {
    if (entry.type === "inbound-rtp") {
      streams.set(`${entry.kind}:${entry.ssrc}`, { received: entry.packetsReceived || 0, lost: Math.max(0, entry.packetsLost || 0) });
    } else if (entry.type === "transport" && entry.selectedCandidatePairId) {
      const pair = report.get(entry.selectedCandidatePairId);
      if (pair && typeof pair.availableOutgoingBitrate === "number") sendEstimate = pair.availableOutgoingBitrate;
    }
  });
  return { sendEstimate, streams };
}

/**
 * The loss this link causes: the least any received video stream lost since the previous
 * reading (audio streams when no video arrives). A stream's own loss may come from its sender's
 * link (a group forwards a publisher's gaps as they are); what every stream loses is lost on
 * ours. Video, because a full queue drops video first: small audio packets mostly slip through
 * while the picture freezes. Streams with too few packets to tell are left out; null when none
 * is left.
 * @param {LinkSample["streams"]} previous @param {LinkSample["streams"]} current
 */
export function sharedLoss(previous, current) {
  /** @type {Record<string, number[]>} */
  const losses = { video: [], audio: [] };
  for (const [id, now] of current) {
    const before = previous.get(id);
    if (!before || now.received < before.received) continue;
    const lost = Math.max(0, now.lost - before.lost);
    const expected = now.received - before.received + lost;
    if (expected >= MIN_PACKETS_FOR_LOSS) losses[id.includes("video:") ? "video" : "audio"].push(lost / expected);
  }
  const telling = losses.video.length ? losses.video : losses.audio;
  return telling.length ? Math.min(...telling) : null;
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
    /** @type {LinkSample["streams"]} */
    this.previous = new Map();
  }

  /**
   * Take one reading (of all this page's connections); return whether the verdict changed.
   * @param {LinkSample} sample
   */
  update(sample) {
    const loss = sharedLoss(this.previous, sample.streams);
    this.previous = sample.streams;
    if (loss === null) return false; // nothing received yet: the estimate is still its start value
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
 * verdict changes, and `onWeakSample(sendEstimate)` on every other reading while weak (to adjust a cap).
 * While `estimateHeld()` (the relay asks our browser to send less, for someone else's link) the
 * send estimate is that ask, not our link's: loss alone judges it then.
 */
export class LinkQuality {
  /**
   * @param {{connections: () => RTCPeerConnection[],
   *          onChange: (weak: boolean, sendEstimate: number | null) => void,
   *          onWeakSample: (sendEstimate: number | null) => void,
   *          estimateHeld: () => boolean}} options
   */
  constructor({ connections, onChange, onWeakSample, estimateHeld }) {
    this.connections = connections;
    this.estimateHeld = estimateHeld;
    this.onChange = onChange;
    this.onWeakSample = onWeakSample;
    this.verdict = new LinkVerdict();
    /** @type {WeakMap<RTCPeerConnection, number>} readings taken of each connection */
    this.readings = new WeakMap();
    window.setInterval(() => this.sample().catch(() => undefined), SAMPLE_INTERVAL_MS);
  }

  async sample() {
    const connections = this.connections();
    const samples = await Promise.all(connections.map((pc) => sampleLink(pc)));
    if (!samples.length) return;
    const estimates = samples.flatMap((s, index) => {
      const readings = (this.readings.get(connections[index]) || 0) + 1;
      this.readings.set(connections[index], readings);
      return s.sendEstimate === null || readings <= ESTIMATE_WARMUP_SAMPLES ? [] : [s.sendEstimate];
    });
    /** @type {LinkSample["streams"]} */
    const streams = new Map();
    samples.forEach((s, index) => s.streams.forEach((counts, id) => streams.set(`${index}:${id}`, counts)));
    const held = this.estimateHeld();
    const sum = { sendEstimate: estimates.length && !held ? Math.min(...estimates) : null, streams };
    if (this.verdict.update(sum)) this.onChange(this.verdict.weak, sum.sendEstimate);
    else if (this.verdict.weak) this.onWeakSample(sum.sendEstimate);
  }
}
