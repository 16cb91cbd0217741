// @ts-check
/**
 * Background blur: MediaPipe selfie segmentation (vendored in static/vendor/mediapipe, loaded
 * from this server on first use only) finds the person; a canvas draws the person sharp over a
 * blurred copy of the picture, and the canvas's captureStream() track is what callers send.
 * No DOM lookups and no UI text here: callers show the messages.
 *
 *   const blurred = await createBlur(cameraTrack);   // rejects with a BlurError
 *   sender.replaceTrack(blurred.track);
 *   blurred.stop();                                   // the camera track itself keeps running
 */

const VENDOR_URL = new URL("../vendor/mediapipe/", import.meta.url).href;
const LOADER_URL = `${VENDOR_URL}selfie_segmentation.js`;
/** 1 = the landscape model (256×144): made for video calls, faster than the square one. */
const MODEL_SELECTION = 1;
const DEFAULT_FRAME_RATE = 24;
const MAX_FRAME_RATE = 30;
/** How long the first blurred frame may take (model compile included) before we give up. */
const FIRST_FRAME_TIMEOUT_MS = 20_000;
/** Blurred frames count as "being produced" while the last one is at most this old. */
const PRODUCING_WINDOW_MS = 1500;
/** After each frame, rest this share of its cost: a slow device drops frames, not the page. */
const REST_SHARE = 0.5;
/** Consecutive failed frames after which blur gives up and reports the error. */
const MAX_FAILED_FRAMES = 5;
/** The smallest module with a SIMD instruction (the loader's own probe): the only wasm we ship. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11,
]);

/** The reasons that mean this browser cannot blur at all, rather than that blurring failed. */
const UNSUPPORTED_REASONS = ["wasm", "webgl", "canvas"];

/** Why blur failed: `reason` is "wasm", "webgl", "canvas" (unsupported), "load" or "failed". */
export class BlurError extends Error {
  /** @param {string} reason @param {unknown} [cause] */
  constructor(reason, cause) {
    super(`background blur unavailable: ${reason}`);
    this.name = "BlurError";
    this.reason = reason;
    this.cause = cause;
  }
}

/**
 * Whether an error from createBlur() means this browser cannot blur (so trying again is no use).
 * @param {unknown} error
 */
export function isUnsupported(error) {
  return error instanceof BlurError && UNSUPPORTED_REASONS.includes(error.reason);
}

/**
 * Tell why this browser cannot blur (without loading anything), or null when it can.
 * @returns {"wasm" | "webgl" | "canvas" | null}
 */
export function blurUnsupportedReason() {
  if (typeof WebAssembly !== "object" || !WebAssembly.validate(SIMD_PROBE)) return "wasm";
  const canvas = document.createElement("canvas");
  if (typeof canvas.captureStream !== "function" || !canvas.getContext("2d")) return "canvas";
  const probe = document.createElement("canvas");
  const gl = /** @type {WebGLRenderingContext | null} */ (
    probe.getContext("webgl2") || probe.getContext("webgl")
  );
  if (!gl) return "webgl";
  const lose = gl.getExtension("WEBGL_lose_context");
  if (lose) lose.loseContext();
  return null;
}

// -- the segmenter: one per page, loaded on first use -----------------------------------------

/** @typedef {import("./types").SegmentationResults} Results */

/** @type {Promise<Segmenter> | null} */
let segmenterLoading = null;

/** @param {string} src */
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.addEventListener("load", resolve);
    script.addEventListener("error", () => reject(new BlurError("load")));
    document.head.append(script);
  });
}

class Segmenter {
  /** @param {import("./types").SelfieSegmentation} solution */
  constructor(solution) {
    this.solution = solution;
    /** @type {((results: Results) => void) | null} who gets the results of the frame being sent */
    this.receiver = null;
    /** One frame at a time through the graph, whoever sends it. */
    this.queue = Promise.resolve();
    solution.onResults((results) => {
      if (this.receiver) this.receiver(results);
    });
  }

  /**
   * Segment one frame; `draw` runs with the results while their images are still valid.
   * @param {CanvasImageSource} image @param {(results: Results) => void} draw
   */
  segment(image, draw) {
    const run = async () => {
      let drawn = false;
      this.receiver = (results) => {
        drawn = true;
        draw(results);
      };
      try {
        await this.solution.send({ image });
      } finally {
        this.receiver = null;
      }
      if (!drawn) throw new BlurError("failed");
    };
    const result = this.queue.then(run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** Load the vendored MediaPipe files (once) and compile the model. */
function loadSegmenter() {
  if (!segmenterLoading) {
    segmenterLoading = (async () => {
      /** @type {typeof window & import("./types").SelfieSegmentationScope} */
      const scope = window;
      if (!scope.SelfieSegmentation) await loadScript(LOADER_URL);
      if (!scope.SelfieSegmentation) throw new BlurError("load");
      const solution = new scope.SelfieSegmentation({ locateFile: (/** @type {string} */ file) => VENDOR_URL + file });
      // CPU inference (XNNPACK, wasm SIMD): 25 ms a frame on a software-rendered test machine
      // where the WebGL delegate took 150-250 ms and stalled the page on every read-back.
      solution.setOptions({ modelSelection: MODEL_SELECTION, selfieMode: false, useCpuInference: true });
      try {
        await solution.initialize();
      } catch (error) {
        throw new BlurError("load", error);
      }
      return new Segmenter(solution);
    })();
    // A failed load may be a network hiccup: let the next attempt try again.
    segmenterLoading.catch(() => (segmenterLoading = null));
  }
  return segmenterLoading;
}

// -- a running blur ----------------------------------------------------------------------------

/**
 * Call `tick` every `intervalMs` from a worker: page timers slow to a crawl in a hidden tab,
 * and the blurred picture must keep flowing while the counsellor looks at another tab.
 * @param {number} intervalMs @param {() => void} tick @returns {() => void} stops the clock
 */
function startClock(intervalMs, tick) {
  try {
    const source = `setInterval(() => postMessage(0), ${Math.round(intervalMs)});`;
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    const worker = new Worker(url);
    URL.revokeObjectURL(url);
    worker.onmessage = tick;
    return () => worker.terminate();
  } catch {
    const id = window.setInterval(tick, intervalMs);
    return () => window.clearInterval(id);
  }
}

/**
 * Whether canvas contexts understand `ctx.filter` (Safari before 18 does not). Asked of the
 * prototype: setting the property on a context that lacks it would just add a plain field.
 */
function supportsFilter() {
  return typeof CanvasRenderingContext2D !== "undefined" && "filter" in CanvasRenderingContext2D.prototype;
}

/** One camera track, blurred. Use `createBlur()` to make one. */
export class BlurredVideo {
  /**
   * @param {MediaStreamTrack} sourceTrack @param {Segmenter} segmenter
   * @param {{onError?: (error: BlurError) => void, frameRate?: number}} options
   */
  constructor(sourceTrack, segmenter, options) {
    this.sourceTrack = sourceTrack;
    this.segmenter = segmenter;
    this.onError = options.onError || (() => {});
    const settings = sourceTrack.getSettings ? sourceTrack.getSettings() : {};
    this.frameRate = Math.min(options.frameRate || settings.frameRate || DEFAULT_FRAME_RATE, MAX_FRAME_RATE);
    this.video = document.createElement("video");
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.srcObject = new MediaStream([sourceTrack]);
    this.canvas = document.createElement("canvas");
    this.canvas.width = settings.width || 640;
    this.canvas.height = settings.height || 480;
    this.ctx = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext("2d"));
    this.filter = supportsFilter();
    /** @type {HTMLCanvasElement[]} smaller and smaller copies, where `ctx.filter` is missing */
    this.smalls = [];
    /** The blurred picture: send this instead of the camera track. */
    this.track = this.canvas.captureStream(this.frameRate).getVideoTracks()[0];
    this.track.enabled = sourceTrack.enabled;
    this.frames = 0;
    this.totalMs = 0;
    this.lastFrameAt = -Infinity;
    this.failures = 0;
    this.busy = false;
    /** Slow devices: leave the page idle for a share of what each frame cost. */
    this.restUntil = 0;
    this.stopped = false;
    /** @type {() => void} */
    this.stopClock = () => {};
  }

  /** Start blurring; resolve once the first blurred frame is on the canvas. */
  async start() {
    /** @type {Promise<void>} */
    const firstFrame = new Promise((resolve, reject) => {
      this.firstFrame = resolve;
      this.firstFailure = reject;
      window.setTimeout(() => reject(new BlurError("failed")), FIRST_FRAME_TIMEOUT_MS);
    });
    try {
      await this.video.play();
      this.stopClock = startClock(1000 / this.frameRate, () => this.nextFrame());
      await firstFrame;
    } catch (error) {
      this.stop();
      throw error instanceof BlurError ? error : new BlurError("failed", error);
    }
  }

  /** True while blurred frames are really coming out (the source may stall or end). */
  get producing() {
    return !this.stopped && performance.now() - this.lastFrameAt < PRODUCING_WINDOW_MS;
  }

  /** Frames blurred so far and the cost of them (segmentation and compositing), in ms. */
  stats() {
    return {
      frames: this.frames,
      totalMs: this.totalMs,
      msPerFrame: this.frames ? this.totalMs / this.frames : 0,
      width: this.canvas.width,
      height: this.canvas.height,
    };
  }

  stop() {
    if (this.stopped) return;
    this.stopped = true;
    this.stopClock();
    this.track.stop();
    this.video.pause();
    this.video.srcObject = null;
  }

  async nextFrame() {
    const video = this.video;
    if (this.busy || this.stopped || video.readyState < 2 || !video.videoWidth) return;
    if (performance.now() < this.restUntil) return;
    this.busy = true;
    const started = performance.now();
    try {
      if (this.canvas.width !== video.videoWidth || this.canvas.height !== video.videoHeight) {
        this.canvas.width = video.videoWidth;
        this.canvas.height = video.videoHeight;
      }
      await this.segmenter.segment(video, (results) => this.composite(results));
      if (this.stopped) return;
      this.frames += 1;
      this.lastFrameAt = performance.now();
      this.totalMs += this.lastFrameAt - started;
      this.restUntil = this.lastFrameAt + REST_SHARE * (this.lastFrameAt - started);
      this.failures = 0;
      if (this.firstFrame) this.firstFrame();
    } catch (error) {
      this.failures += 1;
      if (this.failures >= MAX_FAILED_FRAMES && !this.stopped) {
        const failure = error instanceof BlurError ? error : new BlurError("failed", error);
        this.stop();
        // Before the first frame, start() reports it; afterwards only onError can.
        if (this.frames === 0 && this.firstFailure) this.firstFailure(failure);
        else this.onError(failure);
      }
    } finally {
      this.busy = false;
    }
  }

  /** Person sharp, background blurred, from one frame's results. */
  composite(/** @type {Results} */ results) {
    if (this.stopped) return;
    const { ctx, canvas } = this;
    const { width, height } = canvas;
    const image = results.image;
    const radius = Math.max(4, Math.round(width / 40));
    ctx.save();
    ctx.globalCompositeOperation = "copy";
    // The mask (person opaque) with softened edges, then the picture kept only where it is opaque.
    if (this.filter) ctx.filter = `blur(${Math.max(1, Math.round(width / 200))}px)`;
    ctx.drawImage(results.segmentationMask, 0, 0, width, height);
    ctx.filter = "none";
    ctx.globalCompositeOperation = "source-in";
    ctx.drawImage(image, 0, 0, width, height);
    // The blurred picture behind the person, drawn a bit larger so its edges stay opaque.
    ctx.globalCompositeOperation = "destination-over";
    if (this.filter) {
      ctx.filter = `blur(${radius}px)`;
      ctx.drawImage(image, -2 * radius, -2 * radius, width + 4 * radius, height + 4 * radius);
      ctx.filter = "none";
    } else {
      this.drawDownscaled(image, radius);
    }
    ctx.restore();
    for (const bitmap of [image, results.segmentationMask]) {
      if (typeof ImageBitmap !== "undefined" && bitmap instanceof ImageBitmap) bitmap.close();
    }
  }

  /**
   * Blur without `ctx.filter`: halve the picture step by step (each step averages 2×2 pixels),
   * then let smoothing spread it back out. One big shrink would just skip pixels.
   */
  drawDownscaled(/** @type {CanvasImageSource} */ image, /** @type {number} */ radius) {
    const { width, height } = this.canvas;
    /** @type {CanvasImageSource} */
    let source = image;
    let [w, h] = [width, height];
    for (let step = 0; step < Math.max(1, Math.round(Math.log2(4 * radius))); step++) {
      [w, h] = [Math.max(1, Math.round(w / 2)), Math.max(1, Math.round(h / 2))];
      const small = this.smalls[step] || (this.smalls[step] = document.createElement("canvas"));
      if (small.width !== w || small.height !== h) [small.width, small.height] = [w, h];
      /** @type {CanvasRenderingContext2D} */ (small.getContext("2d")).drawImage(source, 0, 0, w, h);
      source = small;
    }
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.imageSmoothingQuality = "high";
    this.ctx.drawImage(source, 0, 0, width, height);
  }
}

/**
 * Blur the background of a camera track. Loads MediaPipe from this server on first use.
 * @param {MediaStreamTrack} sourceTrack the camera; it is not stopped by `stop()`
 * @param {{onError?: (error: BlurError) => void, frameRate?: number}} [options]
 *   `onError`: blur broke down later on (the track then stops producing frames)
 * @returns {Promise<BlurredVideo>} rejects with a BlurError when blur cannot run here
 */
export async function createBlur(sourceTrack, options = {}) {
  const reason = blurUnsupportedReason();
  if (reason) throw new BlurError(reason);
  if (!sourceTrack || sourceTrack.kind !== "video" || sourceTrack.readyState !== "live") {
    throw new BlurError("failed");
  }
  const segmenter = await loadSegmenter();
  const blurred = new BlurredVideo(sourceTrack, segmenter, options);
  await blurred.start();
  return blurred;
}
