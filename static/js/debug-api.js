// @ts-check
// The debug API `window.praatbox.state()`: what this page really does, in fixed fields; the
// media figures come from live getStats(), never assumed.

import { summariseCall } from "./stats.js";

/**
 * @param {import("./types").CallState} state
 * @param {() => string[]} safetyWords
 */
export function installDebugApi(state, safetyWords) {
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
          e2ee: state.mode !== "group",
          meshFallback: state.mode === "mesh",
          safetyWords: safetyWords(),
          screenSharing: Boolean(state.screenShare && state.screenShare.sharing),
          recording: false,
          streaming: false,
          blur: Boolean(state.blur && state.blur.producing),
        };
      },
    },
  });
}
