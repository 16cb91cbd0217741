// @ts-check
// What kind of connection this network allows: gather ICE candidates against the configured
// STUN/TURN servers, without calling anyone. No DOM lookups here.

const GATHER_TIMEOUT_MS = 10000;

/**
 * The candidate type ("host", "srflx", "prflx", "relay") from the object or its SDP line.
 * @param {RTCIceCandidate} candidate
 */
function typeOf(candidate) {
  if (candidate.type) return candidate.type;
  const match = / typ (\w+)/.exec(candidate.candidate || "");
  return match ? match[1] : "";
}

/**
 * Count the candidates the browser finds, by type.
 * @param {RTCIceServer[]} iceServers
 * @returns {Promise<{host: number, srflx: number, relay: number}>}
 */
export async function gatherCandidates(iceServers, timeoutMs = GATHER_TIMEOUT_MS) {
  const counts = { host: 0, srflx: 0, relay: 0 };
  if (!window.RTCPeerConnection) return counts;
  const pc = new RTCPeerConnection({ iceServers });
  try {
    const done = new Promise((resolve) => {
      pc.onicecandidate = (event) => {
        if (!event.candidate) return resolve(undefined);
        const type = typeOf(event.candidate);
        // A peer-reflexive address is a public one learnt from the other side, like srflx.
        if (type === "host") counts.host += 1;
        else if (type === "srflx" || type === "prflx") counts.srflx += 1;
        else if (type === "relay") counts.relay += 1;
      };
      window.setTimeout(resolve, timeoutMs);
    });
    pc.createDataChannel("check");
    await pc.setLocalDescription(await pc.createOffer());
    await done;
  } finally {
    pc.close();
  }
  return counts;
}

/**
 * Say what the counts mean.
 * - "relay": the TURN server answered: a call works here, directly or through the relay.
 * - "direct": the public address is known (STUN answered): direct calls across the internet work
 *   unless both sides sit behind strict firewalls.
 * - "local": only this device's own addresses: direct calls on the same network.
 * - "none": WebRTC is blocked.
 * @param {{host: number, srflx: number, relay: number}} counts
 */
export function verdictOf(counts) {
  if (counts.relay) return "relay";
  if (counts.srflx) return "direct";
  if (counts.host) return "local";
  return "none";
}
