// @ts-check
// The counsellor's side of REC and LIVE: while a capture this page started runs (everyone said
// yes), compose the call and record it or stream it; stop the moment it no longer runs. The
// recorder, the composer and the WHIP client load only when first needed.

/** @typedef {import("./consent.js").Capture} Capture */
/** @typedef {import("./consent.js").CaptureKind} CaptureKind */

export class CaptureSession {
  /**
   * @param {{sources: (consented: string[]) => import("./call-composer.js").ComposerSource[],
   *          streaming: {url: string, token?: string} | null,
   *          iceServers: RTCIceServer[],
   *          download: HTMLAnchorElement, downloadBox: HTMLElement,
   *          strings: Record<string, string>, announce: (text: string) => void,
   *          stopCapture: (kind: CaptureKind) => void}} options
   */
  constructor(options) {
    this.options = options;
    /** @type {import("./call-composer.js").CallComposer | null} */
    this.composer = null;
    /** @type {import("./recorder.js").CallRecording | null} */
    this.recording = null;
    /** @type {import("./whip.js").WhipPublisher | null} */
    this.stream = null;
    /** @type {string[]} who may be in the picture: everyone who said yes */
    this.consented = [];
    /** Serialises starts and stops: messages can arrive faster than a recorder starts. */
    this.work = Promise.resolve();
  }

  /**
   * What runs now, as the server said; only captures this page started are ours to run.
   * @param {Map<CaptureKind, Capture>} captures @param {string | null} self
   */
  update(captures, self) {
    const mine = (/** @type {CaptureKind} */ kind) => {
      const capture = captures.get(kind);
      return capture && capture.by === self && capture.state === "running" ? capture : null;
    };
    const rec = mine("rec");
    const live = mine("live");
    this.consented = [...(rec || live)?.consented || []];
    this.work = this.work.then(() => this.apply(Boolean(rec), Boolean(live))).catch((error) => console.warn(error));
  }

  /** Stop everything (hang-up, end for all); the recording is still offered. */
  stopAll() {
    this.work = this.work.then(() => this.apply(false, false)).catch((error) => console.warn(error));
    return this.work;
  }

  /** @param {boolean} recording @param {boolean} streaming */
  async apply(recording, streaming) {
    if ((recording || streaming) && !this.composer) {
      const { CallComposer } = await import("./call-composer.js");
      this.composer = new CallComposer(() => this.options.sources(this.consented));
    }
    if (recording && !this.recording && this.composer) {
      const { CallRecording } = await import("./recorder.js");
      this.recording = new CallRecording(this.composer.stream);
    } else if (!recording && this.recording) {
      const recorded = this.recording;
      this.recording = null;
      this.offer(recorded.fileName(), await recorded.stop());
    }
    if (streaming && !this.stream && this.composer && this.options.streaming) {
      await this.startStream(this.composer.stream, this.options.streaming);
    } else if (!streaming && this.stream) {
      const stream = this.stream;
      this.stream = null;
      await stream.stop();
    }
    if (!this.recording && !this.stream && this.composer) {
      this.composer.close();
      this.composer = null;
    }
  }

  /** @param {MediaStream} composed @param {{url: string, token?: string}} endpoint */
  async startStream(composed, endpoint) {
    const { WhipPublisher } = await import("./whip.js");
    const publisher = new WhipPublisher({ ...endpoint, iceServers: this.options.iceServers });
    try {
      await publisher.start(composed);
      this.stream = publisher;
    } catch (error) {
      console.warn(error);
      await publisher.stop();
      this.options.announce(this.options.strings.liveFailed);
      this.options.stopCapture("live");
    }
  }

  /** Offer the finished recording as a download from this device. @param {string} name @param {Blob} blob */
  offer(name, blob) {
    const { download, downloadBox, announce, strings } = this.options;
    if (download.href.startsWith("blob:")) URL.revokeObjectURL(download.href);
    download.href = URL.createObjectURL(blob);
    download.download = name;
    downloadBox.hidden = false;
    announce(strings.recordingReady);
  }
}
