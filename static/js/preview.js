// @ts-check
// The preview before entering a room: self view, device pickers, microphone level, mute and
// camera toggles, and plain help when a device fails. The page hands in its elements.

import { LevelMeter } from "./level.js";
import { listDevices, openLocalMedia } from "./media.js";

/**
 * @typedef {object} PreviewElements
 * @property {HTMLElement} section
 * @property {HTMLVideoElement} video
 * @property {HTMLSelectElement} cameraSelect
 * @property {HTMLSelectElement} micSelect
 * @property {HTMLMeterElement} level
 * @property {HTMLButtonElement} micToggle
 * @property {HTMLButtonElement} cameraToggle
 * @property {HTMLElement} problem
 * @property {HTMLButtonElement} retry
 * @property {HTMLButtonElement} enter
 * @property {HTMLButtonElement} [blurToggle]
 */

/** @type {Record<string, string>} */
const PROBLEM_STRINGS = {
  denied: "previewDenied",
  missing: "previewMissing",
  busy: "previewBusy",
  insecure: "previewInsecure",
};

/** Run the preview until the person presses "Enter the session". */
export class Preview {
  /**
   * @param {PreviewElements} ui
   * @param {Record<string, string>} strings
   * @param {import("./types").DeviceChoice} [choice] devices chosen earlier in this tab
   */
  constructor(ui, strings, choice = {}) {
    this.ui = ui;
    this.strings = strings;
    this.choice = choice;
    /** @type {MediaStream | null} */
    this.stream = null;
    /** @type {string | null} */
    this.problem = null;
    /** @type {LevelMeter | null} */
    this.meter = null;
    this.micOn = true;
    this.cameraOn = true;
    /** @type {import("./blur.js").BlurredVideo | null} */
    this.blurred = null;
    this.wantBlur = false;
    this.refillPickers = () => this.fillPickers();
  }

  /**
   * Show the preview and open the devices; resolve with the stream once the person enters.
   * The call takes over a running blur (`blurred`) as it is.
   * @returns {Promise<{stream: MediaStream | null, problem: string | null, blurred: import("./blur.js").BlurredVideo | null, choice: import("./types").DeviceChoice}>}
   */
  run() {
    const { ui } = this;
    ui.section.hidden = false;
    ui.cameraSelect.addEventListener("change", () => this.open({ ...this.choice, videoId: ui.cameraSelect.value }));
    ui.micSelect.addEventListener("change", () => this.open({ ...this.choice, audioId: ui.micSelect.value }));
    ui.micToggle.addEventListener("click", () => {
      this.micOn = !this.micOn;
      this.applyToggles();
    });
    ui.cameraToggle.addEventListener("click", () => {
      this.cameraOn = !this.cameraOn;
      this.applyToggles();
    });
    ui.retry.addEventListener("click", () => this.open(this.choice));
    if (ui.blurToggle) {
      ui.blurToggle.addEventListener("click", () => {
        this.wantBlur = !this.wantBlur;
        this.applyBlur();
      });
    }
    if (navigator.mediaDevices) navigator.mediaDevices.addEventListener("devicechange", this.refillPickers);
    this.open(this.choice);
    return new Promise((resolve) => {
      ui.enter.addEventListener("click", () => {
        this.finish();
        resolve({ stream: this.stream, problem: this.problem, blurred: this.blurred, choice: this.choice });
      }, { once: true });
    });
  }

  /**
   * (Re-)open the chosen devices; the old tracks stop first, as phones allow one camera at a time.
   * @param {import("./types").DeviceChoice} choice
   */
  async open(choice) {
    const { ui } = this;
    ui.enter.disabled = true;
    this.stopMedia();
    let result = await openLocalMedia(choice);
    if (!result.stream && (choice.audioId || choice.videoId) && result.problem !== "denied") {
      choice = {};  // the chosen device went away: take whatever the browser offers
      result = await openLocalMedia(choice);
    }
    this.choice = choice;
    this.stream = result.stream;
    this.problem = result.problem;
    this.showPicture();
    ui.video.hidden = !this.stream || this.stream.getVideoTracks().length === 0;
    const key = result.problem && PROBLEM_STRINGS[result.problem];
    ui.problem.textContent = key ? this.strings[key] : "";
    ui.problem.hidden = !key;
    ui.retry.hidden = !key;
    if (this.stream && this.stream.getAudioTracks().length) {
      try {
        this.meter = new LevelMeter(this.stream, (level) => (ui.level.value = level));
      } catch (error) {
        console.warn("no audio level meter", error);
      }
    }
    this.applyToggles();
    await this.fillPickers();
    ui.enter.disabled = false;
    performance.mark("praatbox:preview-ready");  // for bench/join_time.py
    if (this.wantBlur) await this.applyBlur();
  }

  /** The self view: the blurred picture while blur runs, else the camera. */
  showPicture() {
    this.ui.video.srcObject = this.blurred ? new MediaStream([this.blurred.track]) : this.stream;
  }

  /** Start or stop background blur (static/js/blur.js, loaded on first use) as the person wants. */
  async applyBlur() {
    const { ui, strings } = this;
    const button = ui.blurToggle;
    if (!button) return;
    const camera = this.stream ? this.stream.getVideoTracks()[0] : undefined;
    if (this.wantBlur && !this.blurred && camera) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = strings.blurLoading;
      /** @type {typeof import("./blur.js") | null} */
      let blur = null;
      try {
        blur = await import("./blur.js");
        const blurred = await blur.createBlur(camera);
        if (this.wantBlur && this.stream && this.stream.getVideoTracks()[0] === camera) {
          this.blurred = blurred;
          blurred.track.enabled = this.cameraOn;
        } else {
          blurred.stop();  // switched off or another camera was chosen meanwhile
        }
      } catch (error) {
        console.warn(error);
        this.wantBlur = false;
        ui.problem.textContent = strings[blur && blur.isUnsupported(error) ? "blurUnsupported" : "blurFailed"];
        ui.problem.hidden = false;
      }
      button.removeAttribute("aria-busy");
    } else if (!this.wantBlur && this.blurred) {
      this.blurred.stop();
      this.blurred = null;
    }
    button.disabled = !camera;
    button.setAttribute("aria-pressed", String(Boolean(this.blurred)));
    button.textContent = this.blurred ? strings.blurOff : strings.blurOn;
    this.showPicture();
  }

  /** List the devices; select the ones in use. Names are only known once access was granted. */
  async fillPickers() {
    const { cameras, microphones } = await listDevices();
    const inUse = (/** @type {string} */ kind) => {
      const track = this.stream && this.stream.getTracks().find((t) => t.kind === kind);
      return track ? track.getSettings().deviceId || "" : "";
    };
    fill(this.ui.cameraSelect, cameras, inUse("video"), this.strings.cameraNumber, this.strings.noCamera);
    fill(this.ui.micSelect, microphones, inUse("audio"), this.strings.micNumber, this.strings.noMic);
  }

  applyToggles() {
    const { ui, strings } = this;
    const tracks = this.stream ? this.stream.getTracks() : [];
    for (const track of tracks) track.enabled = track.kind === "audio" ? this.micOn : this.cameraOn;
    if (this.blurred) this.blurred.track.enabled = this.cameraOn;
    const hasAudio = tracks.some((t) => t.kind === "audio");
    const hasVideo = tracks.some((t) => t.kind === "video");
    ui.micToggle.disabled = !hasAudio;
    ui.cameraToggle.disabled = !hasVideo;
    ui.micToggle.setAttribute("aria-pressed", String(!this.micOn));
    ui.micToggle.textContent = this.micOn ? strings.mute : strings.unmute;
    ui.cameraToggle.setAttribute("aria-pressed", String(!this.cameraOn));
    ui.cameraToggle.textContent = this.cameraOn ? strings.cameraOff : strings.cameraOn;
    if (!this.micOn || !hasAudio) ui.level.value = 0;
  }

  stopMedia() {
    if (this.blurred) this.blurred.stop();
    this.blurred = null;
    if (this.meter) this.meter.close();
    this.meter = null;
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
  }

  /** Hand the stream over to the call: stop only what the preview itself runs. */
  finish() {
    if (this.meter) this.meter.close();
    this.meter = null;
    if (navigator.mediaDevices) navigator.mediaDevices.removeEventListener("devicechange", this.refillPickers);
    this.ui.video.srcObject = null;
    this.ui.section.hidden = true;
  }
}

/**
 * @param {HTMLSelectElement} select
 * @param {MediaDeviceInfo[]} devices
 * @param {string} selected
 * @param {string} numbered e.g. "Camera {n}"
 * @param {string} none
 */
function fill(select, devices, selected, numbered, none) {
  select.replaceChildren();
  devices.forEach((device, index) => {
    const option = document.createElement("option");
    option.value = device.deviceId;
    option.textContent = device.label || numbered.replace("{n}", String(index + 1));
    option.selected = device.deviceId === selected;
    select.append(option);
  });
  if (!devices.length) {
    const option = document.createElement("option");
    option.value = "";
    option.textContent = none;
    select.append(option);
  }
  select.disabled = devices.length < 2;
}
