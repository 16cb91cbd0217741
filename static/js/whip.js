// @ts-check
// Publish a stream to a WHIP endpoint (RFC 9725): one HTTP POST of an SDP offer, the answer in
// the response, DELETE of the session's resource to stop. The browser talks to the endpoint
// directly (the page's CSP allows exactly that origin when the operator configured one).

const GATHERING_TIMEOUT_MS = 3000;

export class WhipPublisher {
  /**
   * @param {{url: string, token?: string, iceServers?: RTCIceServer[]}} endpoint
   */
  constructor(endpoint) {
    this.endpoint = endpoint;
    this.pc = new RTCPeerConnection({ iceServers: endpoint.iceServers || [] });
    /** @type {string | null} the session's resource, to DELETE when we stop */
    this.resource = null;
  }

  /** @param {MediaStream} stream @returns {Promise<void>} */
  async start(stream) {
    for (const track of stream.getTracks()) this.pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    await this.pc.setLocalDescription();
    // Send every candidate in the offer: WHIP's trickle (PATCH) is optional for servers.
    await gatheringComplete(this.pc);
    const offer = /** @type {RTCSessionDescription} */ (this.pc.localDescription);
    const response = await fetch(this.endpoint.url, {
      method: "POST",
      headers: { "Content-Type": "application/sdp", ...this.authorization() },
      body: offer.sdp,
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
    if (response.status !== 201) throw new Error(`WHIP endpoint answered ${response.status}`);
    const location = response.headers.get("Location");
    if (location) this.resource = new URL(location, this.endpoint.url).href;
    await this.pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  }

  /** End the stream: close the connection and tell the endpoint (best effort). */
  async stop() {
    this.pc.close();
    if (!this.resource) return;
    await fetch(this.resource, { method: "DELETE", headers: this.authorization(), credentials: "omit" }).catch(() => undefined);
  }

  /** @returns {Record<string, string>} */
  authorization() {
    return this.endpoint.token ? { Authorization: `Bearer ${this.endpoint.token}` } : {};
  }
}

/** @param {RTCPeerConnection} pc */
function gatheringComplete(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve(undefined);
    };
    pc.addEventListener("icegatheringstatechange", done);
    window.setTimeout(resolve, GATHERING_TIMEOUT_MS);
  });
}
