// @ts-check
/**
 * Screen sharing: capture a screen or window (getDisplayMedia) and send its video instead of the
 * camera, through the `sendVideo` callback room.js gives (replaceTrack on every connection, no
 * renegotiation). Back to the camera when stopped here, when the browser's own "stop sharing"
 * is used (the track ends), or when the call ends. Works inside the elements it is given.
 */

/** Text stays sharp at a modest frame rate; fewer frames also spare the sender's CPU. */
const SCREEN_CONSTRAINTS = { video: { frameRate: { ideal: 15, max: 15 } }, audio: false };

/** Phones and some browsers cannot capture the screen: they get no button. */
export function screenShareSupported() {
  return Boolean(navigator.mediaDevices && "getDisplayMedia" in navigator.mediaDevices);
}

export class ScreenShare {
  /**
   * @param {object} options
   * @param {(track: MediaStreamTrack | null) => Promise<void>} options.sendVideo null: the camera
   * @param {(sharing: boolean) => void} [options.onChange]
   * @param {(error: unknown) => void} [options.onError]
   */
  constructor({ sendVideo, onChange = () => {}, onError = () => {} }) {
    this.sendVideo = sendVideo;
    this.onChange = onChange;
    this.onError = onError;
    /** @type {MediaStreamTrack | null} */
    this.track = null;
  }

  get sharing() {
    return this.track !== null;
  }

  async start() {
    if (this.track) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia(SCREEN_CONSTRAINTS);
    } catch (error) {
      // NotAllowedError: the person cancelled the browser's picker; nothing to say then.
      if (!(error instanceof DOMException && error.name === "NotAllowedError")) this.onError(error);
      return;
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    if ("contentHint" in track) track.contentHint = "detail"; // keep text readable, drop frames instead
    track.addEventListener("ended", () => this.stop());
    this.track = track;
    try {
      await this.sendVideo(track);
    } catch (error) {
      this.onError(error);
    }
    this.onChange(true);
  }

  async stop() {
    const track = this.track;
    if (!track) return;
    this.track = null;
    track.stop();
    try {
      await this.sendVideo(null);
    } catch (error) {
      this.onError(error);
    }
    this.onChange(false);
  }

  toggle() {
    return this.sharing ? this.stop() : this.start();
  }
}

/**
 * Wire the share button and the "you are sharing your screen" banner.
 * @param {object} elements
 * @param {HTMLButtonElement} elements.button the `screen-share` control
 * @param {HTMLElement} elements.banner shown while sharing
 * @param {HTMLButtonElement} elements.stopButton inside the banner
 * @param {object} options
 * @param {(track: MediaStreamTrack | null) => Promise<void>} options.sendVideo
 * @param {(text: string) => void} options.announce
 * @param {Record<string, string>} options.strings shareScreen, stopSharing, sharingOn, sharingOff,
 *   shareFailed
 * @returns {ScreenShare | null} null when this browser cannot share its screen
 */
export function initScreenShare({ button, banner, stopButton }, { sendVideo, announce, strings }) {
  if (!screenShareSupported()) return null;
  const share = new ScreenShare({
    sendVideo,
    onChange: (sharing) => {
      button.setAttribute("aria-pressed", String(sharing));
      button.textContent = sharing ? strings.stopSharing : strings.shareScreen;
      banner.hidden = !sharing;
      announce(sharing ? strings.sharingOn : strings.sharingOff);
    },
    onError: (error) => {
      console.warn("screen share failed", error);
      announce(strings.shareFailed);
    },
  });
  button.hidden = false;
  button.addEventListener("click", () => share.toggle());
  stopButton.addEventListener("click", () => share.stop());
  return share;
}
