// @ts-check
// Signaling over the room's WebSocket (wire format: docs/signaling.md). No DOM code here.

const PING_INTERVAL_MS = 20000;

export class Signaling {
  /** @param {string} url */
  constructor(url) {
    this.url = url;
    /** @type {Record<string, (message: any) => void>} by type; messages are the server's JSON */
    this.handlers = {};
    /** @type {((event: CloseEvent) => void) | null} */
    this.onclose = null;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.pingTimer = 0;
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
      const ws = new WebSocket(this.url);
      this.ws = ws;
      ws.onopen = () => {
        this.pingTimer = window.setInterval(() => this.send({ type: "ping" }), PING_INTERVAL_MS);
        resolve(undefined);
      };
      ws.onmessage = (event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        const handler = this.handlers[message.type];
        if (handler) handler(message);
      };
      ws.onclose = (event) => {
        window.clearInterval(this.pingTimer);
        reject(new Error("signaling closed"));
        if (this.onclose) this.onclose(event);
      };
    });
  }

  /**
   * Send one message if the socket is open.
   * @param {import("./types").ClientMessage} message
   */
  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /**
   * Send offer/answer/candidate data to one participant (or "relay").
   * @param {string} to @param {object} data
   */
  signal(to, data) {
    this.send({ type: "signal", to, data });
  }

  /** Close without triggering the onclose callback. */
  close() {
    this.onclose = null;
    window.clearInterval(this.pingTimer);
    if (this.ws) this.ws.close();
  }
}
