// @ts-check
// One picture and one sound of the whole call, for a recording or a live stream: everyone's
// video in a grid on a canvas, everyone's audio mixed with Web Audio. It runs in the counsellor's
// browser only; the server never sees media.

const WIDTH = 640;
const HEIGHT = 480;
const FRAMES_PER_SECOND = 25;
const BACKGROUND = "#1b1f24";

/** @typedef {{video: HTMLVideoElement}} ComposerSource one participant's picture and sound */

export class CallComposer {
  /**
   * @param {() => ComposerSource[]} sources who is in the picture now (read on every frame: people
   *   come and go, switch the camera off or start sharing their screen)
   */
  constructor(sources) {
    this.sources = sources;
    this.canvas = document.createElement("canvas");
    this.canvas.width = WIDTH;
    this.canvas.height = HEIGHT;
    this.context = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext("2d", { alpha: false }));
    this.audio = new AudioContext();
    this.mix = this.audio.createMediaStreamDestination();
    /** @type {Map<string, MediaStreamAudioSourceNode>} by audio track id */
    this.inputs = new Map();
    this.draw();
    this.timer = window.setInterval(() => this.draw(), 1000 / FRAMES_PER_SECOND);
    const [video] = this.canvas.captureStream(FRAMES_PER_SECOND).getVideoTracks();
    /** The composed call: one video track, one audio track. */
    this.stream = new MediaStream([video, ...this.mix.stream.getAudioTracks()]);
    // Created after the counsellor's click on Record or Go live: sticky activation lets it run.
    this.audio.resume().catch(() => undefined);
  }

  draw() {
    const sources = this.sources();
    const { context } = this;
    context.fillStyle = BACKGROUND;
    context.fillRect(0, 0, WIDTH, HEIGHT);
    const columns = Math.max(1, Math.ceil(Math.sqrt(sources.length)));
    const rows = Math.max(1, Math.ceil(sources.length / columns));
    const cellWidth = WIDTH / columns;
    const cellHeight = HEIGHT / rows;
    sources.forEach(({ video }, index) => {
      if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || !video.videoWidth) return;
      const scale = Math.min(cellWidth / video.videoWidth, cellHeight / video.videoHeight);
      const width = video.videoWidth * scale;
      const height = video.videoHeight * scale;
      const x = (index % columns) * cellWidth + (cellWidth - width) / 2;
      const y = Math.floor(index / columns) * cellHeight + (cellHeight - height) / 2;
      context.drawImage(video, x, y, width, height);
    });
    this.mixAudio(sources);
  }

  /** Keep one mixer input per audio track of the people in the picture. @param {ComposerSource[]} sources */
  mixAudio(sources) {
    /** @type {Map<string, MediaStreamTrack>} */
    const tracks = new Map();
    for (const { video } of sources) {
      const stream = video.srcObject instanceof MediaStream ? video.srcObject : null;
      for (const track of stream ? stream.getAudioTracks() : []) {
        if (track.readyState === "live") tracks.set(track.id, track);
      }
    }
    for (const [id, input] of this.inputs) {
      if (!tracks.has(id)) {
        input.disconnect();
        this.inputs.delete(id);
      }
    }
    for (const [id, track] of tracks) {
      if (this.inputs.has(id)) continue;
      const input = this.audio.createMediaStreamSource(new MediaStream([track]));
      input.connect(this.mix);
      this.inputs.set(id, input);
    }
  }

  close() {
    window.clearInterval(this.timer);
    for (const input of this.inputs.values()) input.disconnect();
    this.inputs.clear();
    this.stream.getTracks().forEach((track) => track.stop());
    this.audio.close().catch(() => undefined);
  }
}
