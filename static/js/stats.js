// @ts-check
// Read what a peer connection really does from live getStats(): never assume a figure.

/**
 * @param {RTCPeerConnection} pc
 * @param {Set<string>} [mids] count only what arrives on these m-lines (one relay publisher)
 * @returns {Promise<import("./types").MediaSummary>}
 */
export async function summarise(pc, mids) {
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((entry) => byId.set(entry.id, entry));
  let framesDecoded = 0;
  let videoBytesReceived = 0;
  let audioBytesReceived = 0;
  /** @type {number | null} the slowest video stream's decoded frames per second */
  let framesPerSecond = null;
  /** @type {RTCIceCandidatePairStats | null} */
  let pair = null;
  for (const entry of report.values()) {
    if (entry.type === "inbound-rtp" && mids && !mids.has(entry.mid)) continue;
    if (entry.type === "inbound-rtp" && entry.kind === "video") {
      framesDecoded += entry.framesDecoded || 0;
      videoBytesReceived += entry.bytesReceived || 0;
      // Chromium leaves framesPerSecond out while no frame is decoded: a frozen picture.
      framesPerSecond = Math.min(framesPerSecond === null ? Infinity : framesPerSecond, entry.framesPerSecond || 0);
    } else if (entry.type === "inbound-rtp" && entry.kind === "audio") {
      audioBytesReceived += entry.bytesReceived || 0;
    } else if (entry.type === "transport" && entry.selectedCandidatePairId) {
      pair = byId.get(entry.selectedCandidatePairId) || pair;
    }
  }
  let candidateType = null;
  if (pair) {
    const local = byId.get(pair.localCandidateId);
    const remote = byId.get(pair.remoteCandidateId);
    const types = [local && local.candidateType, remote && remote.candidateType];
    candidateType = types.includes("relay") ? "relay" : types[0] || null;
  }
  return {
    framesDecoded,
    videoBytesReceived,
    audioBytesReceived,
    framesPerSecond,
    candidateType,
    connectionState: pc.connectionState,
  };
}

/**
 * The DTLS certificate fingerprints the connection really uses (ours and theirs), once DTLS is up.
 * Chromium reports no remote certificate in getStats(); the remote fingerprint then comes from the
 * negotiated remote description, which DTLS has just verified the peer's certificate against.
 * @param {RTCPeerConnection} pc
 * @returns {Promise<{local: string, remote: string} | null>}
 */
export async function fingerprints(pc) {
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((entry) => byId.set(entry.id, entry));
  for (const entry of byId.values()) {
    if (entry.type !== "transport" || entry.dtlsState !== "connected") continue;
    const local = byId.get(entry.localCertificateId);
    const remote = byId.get(entry.remoteCertificateId);
    const remoteFingerprint = remote ? remote.fingerprint : negotiatedFingerprint(pc);
    if (local && remoteFingerprint) return { local: local.fingerprint, remote: remoteFingerprint };
  }
  return null;
}

/**
 * The sha-256 fingerprint in the remote description, as getStats() would write it.
 * @param {RTCPeerConnection} pc
 */
function negotiatedFingerprint(pc) {
  const sdp = pc.currentRemoteDescription ? pc.currentRemoteDescription.sdp : "";
  const match = /^a=fingerprint:sha-256 ([0-9A-Fa-f:]+)/m.exec(sdp);
  return match ? match[1].toUpperCase() : null;
}

/**
 * Every connection of a call, by peer id; in group mode one entry per publisher plus "relay".
 * @param {Pick<import("./types").CallState, "links" | "group" | "peers">} call the call as it is now
 */
export async function summariseCall(call) {
  /** @type {Record<string, import("./types").MediaSummary>} */
  const media = {};
  for (const [peerId, link] of call.links) media[peerId] = await summarise(link.pc);
  const group = call.group;
  if (group) {
    // Per publisher (from the m-lines the relay tagged with their id), and the whole connection.
    for (const peerId of call.peers) {
      const layer = group.layers[peerId];
      media[peerId] = {
        ...await summarise(group.pc, group.midsOf(peerId)),
        layer: layer ? layer.layer : null,
        fullLayer: layer ? layer.full : null,
      };
    }
    media.relay = await summarise(group.pc);
  }
  return media;
}
