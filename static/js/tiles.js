// @ts-check
// The stage: one tile per other participant (their video; a kick button for the counsellor).

export class RemoteTiles {
  /**
   * @param {HTMLElement} stage
   * @param {{strings: Record<string, string>, canKick: () => boolean,
   *          onKick: (peerId: string) => void}} options `canKick`: a new tile gets a kick button
   */
  constructor(stage, { strings, canKick, onKick }) {
    this.stage = stage;
    this.strings = strings;
    this.canKick = canKick;
    this.onKick = onKick;
  }

  /** @param {string} peerId @returns {HTMLElement | null} */
  find(peerId) {
    return this.stage.querySelector(`.tile[data-peer="${CSS.escape(peerId)}"]`);
  }

  /** The tile of one participant, made on first use. @param {string} peerId */
  tileFor(peerId) {
    let tile = this.find(peerId);
    if (tile) return tile;
    tile = document.createElement("div");
    tile.className = "tile";
    tile.dataset.peer = peerId;
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.dataset.testid = "remote-video";
    video.dataset.peer = peerId;
    video.setAttribute("aria-label", this.strings.remoteVideo);
    tile.append(video);
    if (this.canKick()) {
      const kick = document.createElement("button");
      kick.type = "button";
      kick.className = "kick";
      kick.dataset.testid = "kick";
      kick.textContent = this.strings.kick;
      kick.addEventListener("click", () => this.onKick(peerId));
      tile.append(kick);
    }
    this.stage.append(tile);
    return tile;
  }

  /** @param {string} peerId @param {MediaStream} stream */
  show(peerId, stream) {
    const video = /** @type {HTMLVideoElement} */ (this.tileFor(peerId).querySelector("video"));
    if (video.srcObject !== stream) {
      video.srcObject = stream;
      video.play().catch(() => {
        // Autoplay with sound was refused: the controls let one tap start it.
        video.controls = true;
      });
    }
  }

  /** Their media stopped (group mode): keep the tile, drop the picture. @param {string} peerId */
  clear(peerId) {
    const video = this.find(peerId)?.querySelector("video");
    if (video) video.srcObject = null;
  }

  /**
   * Show (or hide) that a participant's connection to the server dropped; their media goes on.
   * @param {string} peerId @param {boolean} reconnecting
   */
  setReconnecting(peerId, reconnecting) {
    this.setLabel(peerId, "peer-reconnecting", this.strings.peerReconnecting, reconnecting);
    const tile = this.find(peerId);
    if (tile) tile.dataset.reconnecting = String(reconnecting);
  }

  /**
   * Show (or hide) that a participant's own link is weak (their video is reduced).
   * @param {string} peerId @param {boolean} weak
   */
  setWeakLink(peerId, weak) {
    this.setLabel(peerId, "weak-link-tile", this.strings.peerWeakLink, weak);
  }

  /**
   * A line of text on a participant's tile, made on first use, identified by its test id.
   * @param {string} peerId @param {string} testId @param {string} text @param {boolean} shown
   */
  setLabel(peerId, testId, text, shown) {
    const tile = this.find(peerId);
    if (!tile) return;
    let label = /** @type {HTMLElement | null} */ (tile.querySelector(`[data-testid="${testId}"]`));
    if (!label) {
      label = document.createElement("p");
      label.className = "tile-label";
      label.dataset.testid = testId;
      label.textContent = text;
      tile.append(label);
    }
    label.hidden = !shown;
  }

  /** @param {string} peerId */
  remove(peerId) {
    const tile = this.find(peerId);
    if (tile) tile.remove();
  }
}
