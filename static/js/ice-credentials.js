// @ts-check
// TURN credentials expire (the REST scheme's username starts with its expiry in UNIX seconds):
// an ICE restart late in a long call needs valid ones to allocate on the TURN server again.

/** Ask for new ones when the page's expire within this (it also absorbs some clock skew). */
const EXPIRY_MARGIN_S = 600;

/**
 * The ICE servers to restart with: null while the page's TURN credentials stay valid, else
 * fresh ones from the server (kept in `config` for the next restart and the next connection).
 * @param {import("./types").RoomConfig} config
 * @returns {Promise<RTCIceServer[] | null>}
 */
export async function freshIceServers(config) {
  if (!expiresSoon(config.iceServers, Date.now() / 1000)) return null;
  const response = await fetch(`/r/${encodeURIComponent(config.roomId)}/ice`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) return null;
  const body = await response.json();
  if (!Array.isArray(body.iceServers)) return null;
  config.iceServers = body.iceServers;
  return body.iceServers;
}

/**
 * @param {RTCIceServer[]} servers
 * @param {number} nowS
 */
function expiresSoon(servers, nowS) {
  return servers.some((server) => {
    const expiry = typeof server.username === "string" ? parseInt(server.username, 10) : NaN;
    return expiry < nowS + EXPIRY_MARGIN_S;
  });
}
