// @ts-check
// The debug API `window.praatbox.state()`: what this page really does, in fixed fields; the
// media figures come from live getStats(), never assumed.

import { summariseCall } from "./stats.js";

/**
 * @param {import("./types").CallState} state
 * @param {() => string[]} safetyWords
 * @param {() => boolean} groupEncrypted every browser in the group encrypts its frames
 * @param {{recording: boolean, streaming: boolean}} captures what the server says runs now
 */
export function installDebugApi(state, safetyWords, groupEncrypted, captures) {
  Object.assign(window, {
    praatbox: {
      /** @returns {Promise<import("./types").DebugState>} */
      async state() {
        return {
          joined: state.joined,
          self: state.self,
          moderator: state.moderator,
          locked: state.locked,
          mode: state.mode === "group" ? "group" : "p2p",
          participants: [state.self, ...state.peers].filter(Boolean),
          media: await summariseCall(state),
          // Two people, or a mesh: DTLS-SRTP between the browsers. A group: frame encryption.
          e2ee: state.mode !== "group" || groupEncrypted(),
          e2eeKeys: state.encryption.keys(),
          e2eeFrames: { ...state.encryption.counts },
          meshFallback: state.mode === "mesh",
          safetyWords: safetyWords(),
          screenSharing: Boolean(state.screenShare && state.screenShare.sharing),
          recording: captures.recording,
          streaming: captures.streaming,
          blur: Boolean(state.blur && state.blur.producing),
        };
      },
    },
  });
}
