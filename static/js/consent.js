// @ts-check
// Recording (REC) and live streaming (LIVE) as everyone sees them: the indicators, the consent
// question, the withdraw button and the counsellor's start/stop buttons. The server keeps the
// consent rules (praatbox/rooms/capture.py) and tells every page what runs; this module only
// shows it and sends the answers. No media here: capture-session.js does the capturing.

/** @typedef {"rec" | "live"} CaptureKind */
/** @typedef {{kind: CaptureKind, state: "asking" | "running", by: string, consented: string[]}} Capture */

/**
 * @typedef {object} ConsentElements
 * @property {HTMLElement} recIndicator @property {HTMLElement} liveIndicator
 * @property {HTMLElement} dialog the consent question (role="alertdialog")
 * @property {HTMLElement} question its text
 * @property {HTMLButtonElement} accept @property {HTMLButtonElement} decline
 * @property {HTMLButtonElement} withdraw stays visible while this person's yes counts
 * @property {HTMLElement | null} waiting the counsellor's "waiting for everyone's consent"
 * @property {Record<CaptureKind, {start: HTMLButtonElement | null, stop: HTMLButtonElement | null}>} buttons
 */

export class CaptureConsent {
  /**
   * @param {ConsentElements} elements
   * @param {{strings: Record<string, string>, announce: (text: string) => void,
   *          send: (message: {type: string} & Record<string, unknown>) => void,
   *          onChange: (captures: Map<CaptureKind, Capture>) => void}} options
   */
  constructor(elements, { strings, announce, send, onChange }) {
    this.el = elements;
    this.strings = strings;
    this.announce = announce;
    this.send = send;
    this.onChange = onChange;
    /** @type {string | null} */
    this.self = null;
    /** @type {Map<CaptureKind, Capture>} */
    this.captures = new Map();
    /** @type {CaptureKind[]} questions not answered yet, the one shown first */
    this.pending = [];
    this.el.accept.addEventListener("click", () => this.answer(true));
    this.el.decline.addEventListener("click", () => this.answer(false));
    this.el.withdraw.addEventListener("click", () => this.withdraw());
    for (const [kind, { start, stop }] of Object.entries(this.el.buttons)) {
      const captureKind = /** @type {CaptureKind} */ (kind);
      if (start) start.addEventListener("click", () => this.send({ type: "capture", kind: captureKind, on: true }));
      if (stop) stop.addEventListener("click", () => this.send({ type: "capture", kind: captureKind, on: false }));
    }
  }

  get recording() {
    return this.captures.get("rec")?.state === "running";
  }

  get streaming() {
    return this.captures.get("live")?.state === "running";
  }

  /**
   * The room's captures as a welcome (or a resume) lists them.
   * @param {string} self @param {Capture[]} captures
   */
  reset(self, captures) {
    this.self = self;
    this.captures = new Map(captures.map((capture) => [capture.kind, capture]));
    this.pending = this.pending.filter((kind) => this.captures.has(kind));
    // Asked while our socket was down (a resume): the question is still ours to answer.
    for (const capture of captures) {
      if (capture.state === "asking" && capture.by !== self && !capture.consented.includes(self) && !this.pending.includes(capture.kind)) {
        this.pending.push(capture.kind);
      }
    }
    this.render();
  }

  /**
   * Held at the door: these captures need our answer before we may enter.
   * @param {{kind: CaptureKind, state: "asking" | "running"}[]} captures
   */
  askAtDoor(captures) {
    for (const capture of captures) {
      this.captures.set(capture.kind, { by: "", consented: [], ...capture });
      if (!this.pending.includes(capture.kind)) this.pending.push(capture.kind);
    }
    this.render();
  }

  /**
   * A capture was asked for, started or ended (`state` "off").
   * @param {{kind: CaptureKind, state: "asking" | "running" | "off", by?: string,
   *          consented?: string[], reason?: string}} message
   */
  update(message) {
    const { kind } = message;
    const before = this.captures.get(kind);
    if (message.state === "off") {
      this.captures.delete(kind);
      this.pending = this.pending.filter((pending) => pending !== kind);
      if (before) this.announce(this.strings[`${kind}Off_${message.reason}`] || this.strings[`${kind}Off_stopped`]);
    } else {
      const capture = { kind, state: message.state, by: message.by || "", consented: message.consented || [] };
      this.captures.set(kind, capture);
      const mine = capture.by === this.self;
      if (!mine && capture.state === "asking" && !capture.consented.includes(String(this.self)) && !this.pending.includes(kind)) {
        this.pending.push(kind);
      }
      if (capture.state === "running" && before?.state !== "running") this.announce(this.strings[`${kind}Started`]);
      if (mine && capture.state === "asking" && !before) this.announce(this.strings.consentAsked);
    }
    this.render();
  }

  /** @param {boolean} accept */
  answer(accept) {
    const kind = this.pending.shift();
    if (!kind) return;
    this.send({ type: "consent", kind, accept });
    const capture = this.captures.get(kind);
    if (accept && capture && this.self) capture.consented = [...capture.consented, this.self];
    this.render();
  }

  /** Take every yes back: what runs stops for everyone. */
  withdraw() {
    for (const kind of this.consentedKinds()) this.send({ type: "consent", kind, accept: false });
  }

  /** @returns {CaptureKind[]} the captures someone else runs or asks for, that we said yes to */
  consentedKinds() {
    return [...this.captures.values()]
      .filter((capture) => capture.by !== this.self && this.self && capture.consented.includes(this.self))
      .map((capture) => capture.kind);
  }

  render() {
    const { el, strings } = this;
    el.recIndicator.hidden = !this.recording;
    el.liveIndicator.hidden = !this.streaming;
    const kind = this.pending[0];
    const wasOpen = !el.dialog.hidden;
    el.dialog.hidden = !kind;
    if (kind) {
      el.question.textContent = strings[`${kind}Question`];
      if (!wasOpen) el.accept.focus();
    }
    el.withdraw.hidden = this.consentedKinds().length === 0;
    const asking = [...this.captures.values()].some((capture) => capture.by === this.self && capture.state === "asking");
    if (el.waiting) el.waiting.hidden = !asking;
    for (const [name, { start, stop }] of Object.entries(el.buttons)) {
      const on = this.captures.has(/** @type {CaptureKind} */ (name));
      if (start) start.hidden = on;
      if (stop) stop.hidden = !on;
    }
    this.onChange(this.captures);
  }
}
