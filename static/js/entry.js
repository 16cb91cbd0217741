// Entering the room: through the preview step, or straight in after a reload or a wait.

import { openLocalMedia } from "./media.js";
import { Preview } from "./preview.js";

const DEVICES_KEY = "praatbox.devices";
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const enteredKey = (roomId) => `praatbox.entered.${roomId}`;

function tabMemory(key, value) {
  try {
    if (value !== undefined) window.sessionStorage.setItem(key, value);
    return window.sessionStorage.getItem(key);
  } catch {
    return null;  // storage blocked: the preview simply shows again after a reload
  }
}

/** Coming back to this room later goes through the preview again. */
export function forgetEntry(roomId) {
  tabMemory(enteredKey(roomId), "");
}

/**
 * Show the preview, unless this tab already passed it for this room (a reload) or the person
 * waited for the counsellor on the waiting screen (promised to join by itself).
 * @param {{roomId: string, autoEnter?: boolean}} config
 * @param {Record<string, string>} strings
 */
export async function enterThroughPreview(config, strings) {
  let choice = {};
  try {
    choice = JSON.parse(tabMemory(DEVICES_KEY) || "{}");
  } catch {
    choice = {};
  }
  let result;
  const previewed = !(config.autoEnter || tabMemory(enteredKey(config.roomId)) === "1");
  if (!previewed) {
    result = await openLocalMedia(choice);
    if (!result.stream && result.problem !== "denied") result = await openLocalMedia();
  } else {
    const preview = new Preview({
      section: $("preview"),
      video: /** @type {HTMLVideoElement} */ ($("preview-video")),
      cameraSelect: /** @type {HTMLSelectElement} */ ($("camera-select")),
      micSelect: /** @type {HTMLSelectElement} */ ($("mic-select")),
      level: /** @type {HTMLMeterElement} */ ($("mic-level")),
      micToggle: /** @type {HTMLButtonElement} */ ($("preview-mic-toggle")),
      cameraToggle: /** @type {HTMLButtonElement} */ ($("preview-camera-toggle")),
      problem: $("preview-problem"),
      retry: /** @type {HTMLButtonElement} */ ($("preview-retry")),
      enter: /** @type {HTMLButtonElement} */ ($("preview-enter")),
      blurToggle: /** @type {HTMLButtonElement} */ ($("preview-blur-toggle")),
    }, strings, choice);
    result = await preview.run();
    tabMemory(DEVICES_KEY, JSON.stringify(result.choice));
  }
  tabMemory(enteredKey(config.roomId), "1");
  $("room").classList.remove("previewing");
  // The preview's controls vanished: put keyboard focus on the call's first control.
  if (previewed) $("mic-toggle").focus();
  return result;
}
