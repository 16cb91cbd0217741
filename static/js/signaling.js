// @ts-check
// Signaling over the room's WebSocket (wire format: docs/signaling.md). No DOM code here.
// A socket that drops comes back by itself (back-off with jitter) and resumes its place with the
// last token the server gave it, kept in this page's memory only (never in a URL).

const PING_INTERVAL_MS = 20000;
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5000;
// Closes after which the server does not want the socket back: a normal close (hang-up, kicked,
// ended, replaced by a reload) and a policy close (refused, flooding, a refused resume).
const FINAL_CLOSE_CODES = [1000, 1008];
/** `e2ee` messages (keys, acks, sealed chat) kept while the socket is down, sent once resumed. */
export const HELD_MESSAGES_MAX = 200;

export class Signaling {
  /** @param {string} url */
  constructor(url) {
    this.url = url;
    /** @type {Record<string, (message: any) => void>} by type; messages are the server's JSON */
    this.handlers = {};
    /** Called once the connection is lost for good. @type {((event: CloseEvent) => void) | null} */
    this.onclose = null;
    /** Called when the socket dropped and the page tries to resume. @type {(() => void) | null} */
    this.onreconnecting = null;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.pingTimer = 0;
    this.retryTimer = 0;
    this.retryMs = RETRY_FIRST_MS;
    /** When to stop trying to resume (0: not trying). */
    this.giveUpAt = 0;
    /** @type {string | null} this socket's peer id, once welcomed */
    this.self = null;
    /** @type {string | null} the token to resume with; the next one counts once welcomed */
    this.token = null;
    /** @type {string | null} */
    this.nextToken = null;
    this.graceMs = 0;
    /** @type {import("./types").ClientMessage[]} what to send once resumed */
    this.held = [];
  }

  /**
   * Register the handler for one message type.
   * @param {string} type @param {(message: any) => void} handler gets the message as parsed JSON
   */
  on(type, handler) {
    this.handlers[type] = handler;
  }

  /** Open the socket; resolves once it is open. */
  connect() {
    return new Promise((resolve, reject) => {
      this.open(this.url, () => resolve(undefined), () => reject(new Error("signaling closed")));
    });
  }

  /**
   * @param {string} url @param {() => void} onopen @param {() => void} onfail
   */
  open(url, onopen, onfail) {
    const ws = new WebSocket(url);
    const resuming = this.self !== null;
    this.ws = ws;
    ws.onopen = () => {
      if (resuming) ws.send(JSON.stringify({ type: "resume", peer: this.self, token: this.token }));
      this.pingTimer = window.setInterval(() => this.send({ type: "ping" }), PING_INTERVAL_MS);
      onopen();
    };
    ws.onmessage = (event) => this.dispatch(event.data);
    ws.onclose = (event) => {
      window.clearInterval(this.pingTimer);
      onfail();
      if (ws === this.ws) this.dropped(event);
    };
  }

  /** @param {string} data */
  dispatch(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.resumeToken) {
      // The first message of each socket: the token to resume this socket with.
      this.nextToken = message.resumeToken;
      this.graceMs = message.graceSeconds * 1000;
    }
    if (message.type === "welcome" || message.type === "resumed") {
      this.self = message.self;
      this.token = this.nextToken;
      this.giveUpAt = 0;
      this.retryMs = RETRY_FIRST_MS;
      for (const held of this.held.splice(0)) this.send(held);
    }
    const handler = this.handlers[message.type];
    if (handler) handler(message);
  }

  /** The socket closed without us: try to resume within the grace period, else give up. @param {CloseEvent} event */
  dropped(event) {
    const resumable = this.self !== null && this.token !== null && !FINAL_CLOSE_CODES.includes(event.code);
    if (resumable && !this.giveUpAt) {
      this.giveUpAt = Date.now() + this.graceMs;
      if (this.onreconnecting) this.onreconnecting();
    }
    const delay = this.retryMs * (0.5 + Math.random());
    if (!resumable || Date.now() + delay > this.giveUpAt) {
      this.giveUpAt = 0;
      this.held = [];
      if (this.onclose) this.onclose(event);
      return;
    }
    this.retryMs = Math.min(2 * this.retryMs, RETRY_MAX_MS);
    this.retryTimer = window.setTimeout(() => this.open(`${this.url}&resume=1`, () => {}, () => {}), delay);
  }

  /**
   * Send one message if the socket is open. While it is down and we try to resume, an `e2ee`
   * message waits (up to HELD_MESSAGES_MAX): a key or chat message lost would leave someone
   * unable to decrypt, or unaware; anything else is out of date by then and dropped.
   * @param {import("./types").ClientMessage} message
   */
  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
    else if (this.giveUpAt && message.type === "e2ee" && this.held.length < HELD_MESSAGES_MAX) {
      this.held.push(message);
    }
  }

  /**
   * Send offer/answer/candidate data to one participant (or "relay").
   * @param {string} to @param {object} data
   */
  signal(to, data) {
    this.send({ type: "signal", to, data });
  }

  /** Close for good, without triggering the onclose callback. */
  close() {
    this.onclose = null;
    window.clearInterval(this.pingTimer);
    window.clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
  }
}
