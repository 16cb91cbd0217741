// @ts-check
// The self-test page: camera, microphone level, a test tone, and what the network allows.

import { gatherCandidates, verdictOf } from "./ice-check.js";
import { LevelMeter, playTestTone } from "./level.js";
import { openLocalMedia } from "./media.js";

const MIC_HEARD_LEVEL = 0.25;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @type {{iceServers?: RTCIceServer[]}} */
const config = JSON.parse($("check-config").textContent || "{}");
/** @type {Record<string, string>} */
const strings = JSON.parse($("check-strings").textContent || "{}");

/** @type {MediaStream | null} */
let stream = null;
/** @type {LevelMeter | null} */
let meter = null;

/** @param {string} id @param {string} text @param {boolean} [ok] none: not known yet */
function result(id, text, ok) {
  const element = $(id);
  element.textContent = text;
  if (ok === undefined) delete element.dataset.ok;
  else element.dataset.ok = String(ok);
}

async function checkDevices() {
  if (meter) meter.close();
  if (stream) stream.getTracks().forEach((track) => track.stop());
  const opened = await openLocalMedia();
  stream = opened.stream;
  const video = /** @type {HTMLVideoElement} */ ($("check-video"));
  video.srcObject = stream;
  const hasVideo = Boolean(stream && stream.getVideoTracks().length);
  const hasAudio = Boolean(stream && stream.getAudioTracks().length);
  video.hidden = !hasVideo;
  result("check-camera-result", hasVideo ? strings.cameraOk : strings.cameraNone, hasVideo);
  $("check-problem").textContent = opened.problem ? strings[opened.problem] : "";
  $("check-problem").hidden = !opened.problem;
  $("check-media-retry").hidden = !opened.problem;
  if (!hasAudio) {
    result("check-mic-result", strings.micNone, false);
    return;
  }
  const level = /** @type {HTMLMeterElement} */ ($("check-mic-level"));
  let heard = false;
  meter = new LevelMeter(/** @type {MediaStream} */ (stream), (value) => {
    level.value = value;
    if (!heard && value >= MIC_HEARD_LEVEL) {
      heard = true;
      result("check-mic-result", strings.micOk, true);
    }
  });
}

async function checkNetwork() {
  const button = /** @type {HTMLButtonElement} */ ($("check-network-retry"));
  button.disabled = true;
  const verdict = $("check-verdict");
  verdict.dataset.verdict = "";
  verdict.textContent = strings.testing;
  const iceServers = config.iceServers || [];
  const counts = await gatherCandidates(iceServers).catch(() => ({ host: 0, srflx: 0, relay: 0 }));
  for (const type of /** @type {const} */ (["host", "srflx", "relay"])) {
    $(`check-count-${type}`).textContent = String(counts[type]);
  }
  $("check-candidates").hidden = false;
  const kind = verdictOf(counts);
  const offersRelay = iceServers.some((server) => [server.urls].flat().some((url) => /^turns?:/.test(url)));
  let key = kind;
  if (kind === "direct" && !offersRelay) key = "directNoRelay";
  if (kind === "local" && !iceServers.length) key = "localNoServers";
  verdict.dataset.verdict = kind;
  verdict.textContent = strings[key];
  button.disabled = false;
}

async function playTone() {
  const button = /** @type {HTMLButtonElement} */ ($("check-speaker"));
  button.disabled = true;
  result("check-speaker-result", strings.speakerPlaying);
  try {
    await playTestTone();
    result("check-speaker-result", strings.speakerDone);
  } catch {
    result("check-speaker-result", strings.speakerFailed, false);
  } finally {
    button.disabled = false;
    button.focus();
  }
}

$("check-media-retry").addEventListener("click", checkDevices);
$("check-network-retry").addEventListener("click", checkNetwork);
$("check-speaker").addEventListener("click", playTone);
checkDevices();
checkNetwork();
