// @ts-check
// Microphone level from a WebAudio AnalyserNode, and a short test tone. No DOM lookups here.

const LEVEL_INTERVAL_MS = 100;
const SILENCE_DB = -60;
const TONE_HZ = 440;
const TONE_SECONDS = 1.2;

function newContext() {
  /** @type {typeof window & {webkitAudioContext?: typeof AudioContext}} */
  const scope = window;
  const Context = scope.AudioContext || scope.webkitAudioContext;
  return new Context();
}

/**
 * Browsers start audio suspended until the person interacts: resume on the first gesture.
 * @param {AudioContext} context
 */
function resumeOnGesture(context) {
  if (context.state !== "suspended") return;
  context.resume().catch(() => undefined);
  const resume = () => context.resume().catch(() => undefined);
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, resume, { once: true });
}

/** Report the loudness of a stream's audio ten times a second, from 0 (silence) to 1 (loud). */
export class LevelMeter {
  /**
   * @param {MediaStream} stream
   * @param {(level: number) => void} onLevel
   */
  constructor(stream, onLevel) {
    this.context = newContext();
    const source = this.context.createMediaStreamSource(stream);
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    /** the loudest level seen since the meter started */
    this.peak = 0;
    this.timer = window.setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      const rms = Math.sqrt(sum / samples.length);
      const db = rms > 0 ? 20 * Math.log10(rms) : SILENCE_DB;
      const level = Math.min(1, Math.max(0, (db - SILENCE_DB) / -SILENCE_DB));
      this.peak = Math.max(this.peak, level);
      onLevel(level);
    }, LEVEL_INTERVAL_MS);
    resumeOnGesture(this.context);
  }

  close() {
    window.clearInterval(this.timer);
    this.context.close().catch(() => undefined);
  }
}

/** Play a gentle tone on the default speaker; resolves when it has finished. */
export async function playTestTone() {
  const context = newContext();
  await context.resume().catch(() => undefined);
  const oscillator = context.createOscillator();
  const gain = context.createGain();
  oscillator.frequency.value = TONE_HZ;
  const start = context.currentTime;
  // Fade in and out so the tone does not click.
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(0.3, start + 0.05);
  gain.gain.setValueAtTime(0.3, start + TONE_SECONDS - 0.1);
  gain.gain.linearRampToValueAtTime(0, start + TONE_SECONDS);
  oscillator.connect(gain).connect(context.destination);
  oscillator.start(start);
  oscillator.stop(start + TONE_SECONDS);
  await new Promise((resolve) => (oscillator.onended = resolve));
  await context.close().catch(() => undefined);
}
