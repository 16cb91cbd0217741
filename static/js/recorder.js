// @ts-check
// Record the composed call to a WebM file in the counsellor's browser; the file only ever exists
// on this device (a blob: URL offered for download), nothing is uploaded.

const MIME_TYPES = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm"];
// Hand the recorder's data over every second, so a long session is not one huge buffer at the end.
const SLICE_MS = 1000;

export class CallRecording {
  /** @param {MediaStream} stream */
  constructor(stream) {
    const mimeType = MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || "";
    this.recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
    /** @type {Blob[]} */
    this.chunks = [];
    this.startedAt = new Date();
    this.recorder.addEventListener("dataavailable", (event) => {
      if (event.data.size) this.chunks.push(event.data);
    });
    this.stopped = new Promise((resolve) => this.recorder.addEventListener("stop", () => resolve(undefined)));
    this.recorder.start(SLICE_MS);
  }

  /** Stop and return the whole file. @returns {Promise<Blob>} */
  async stop() {
    if (this.recorder.state !== "inactive") this.recorder.stop();
    await this.stopped;
    const blob = new Blob(this.chunks, { type: "video/webm" });
    this.chunks = [];
    return blob;
  }

  /** A file name that says what it is and when, never who or which room. */
  fileName() {
    const stamp = this.startedAt.toISOString().slice(0, 16).replace("T", "-").replace(":", "");
    return `praatbox-recording-${stamp}.webm`;
  }
}
