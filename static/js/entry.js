// @ts-check
// Entering the room: through the preview step, or straight in after a reload or a wait.
// Works with the elements the page gives it.

import { openLocalMedia } from "./media.js";
import { Preview } from "./preview.js";

const DEVICES_KEY = "praatbox.devices";
/** @param {string} roomId */
const enteredKey = (roomId) => `praatbox.entered.${roomId}`;

/** @param {string} key @param {string} [value] */
function tabMemory(key, value) {
  try {
    if (value !== undefined) window.sessionStorage.setItem(key, value);
    return window.sessionStorage.getItem(key);
  } catch {
    return null;  // storage blocked: the preview simply shows again after a reload
  }
}

/** Coming back to this room later goes through the preview again. @param {string} roomId */
export function forgetEntry(roomId) {
  tabMemory(enteredKey(roomId), "");
}

/**
 * Show the preview, unless this tab already passed it for this room (a reload) or the person
 * waited for the counsellor on the waiting screen (promised to join by itself).
 * @param {import("./types").EntryElements} ui
 * @param {{roomId: string, autoEnter?: boolean}} config
 * @param {Record<string, string>} strings
 */
export async function enterThroughPreview(ui, config, strings) {
  /** @type {import("./types").DeviceChoice} */
  let choice = {};
  try {
    choice = JSON.parse(tabMemory(DEVICES_KEY) || "{}");
  } catch {
    choice = {};
  }
  /**
   * @type {{stream: MediaStream | null, problem: string | null,
   *         blurred?: import("./blur.js").BlurredVideo | null}}
   */
  let result;
  const previewed = !(config.autoEnter || tabMemory(enteredKey(config.roomId)) === "1");
  if (!previewed) {
    result = await openLocalMedia(choice);
    if (!result.stream && result.problem !== "denied") result = await openLocalMedia();
  } else {
    const preview = new Preview(ui.preview, strings, choice);
    const previewResult = await preview.run();
    tabMemory(DEVICES_KEY, JSON.stringify(previewResult.choice));
    result = previewResult;
  }
  tabMemory(enteredKey(config.roomId), "1");
  ui.room.classList.remove("previewing");
  // The preview's controls vanished: put keyboard focus on the call's first control.
  if (previewed) ui.firstControl.focus();
  return result;
}
