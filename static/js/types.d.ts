// Shapes the room page's modules hand each other, for the type check only (static/jsconfig.json):
// browsers never load this file.

import type { BlurredVideo } from "./blur.js";
import type { GroupSession } from "./group.js";
import type { GroupEncryption } from "./group-e2ee.js";
import type { PeerLink } from "./peer.js";
import type { PreviewElements } from "./preview.js";
import type { ScreenShare } from "./screenshare.js";

/** The room page's `room-config` JSON. */
export interface RoomConfig {
  roomId: string;
  moderator?: boolean;
  /** The person waited on the waiting screen: skip the preview. */
  autoEnter?: boolean;
  iceServers: RTCIceServer[];
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Where LIVE streams to (the counsellor's page only, when the operator set one). */
  streaming?: { url: string; token?: string } | null;
}

/** The call as room.js keeps it; the debug API reads it anew on every call. */
export interface CallState {
  joined: boolean;
  self: string | null;
  moderator: boolean;
  locked: boolean;
  /** "mesh": direct to everyone, no relay available. */
  mode: "p2p" | "group" | "mesh";
  ended: boolean;
  localStream: MediaStream | null;
  /** The other participants. */
  peers: Set<string>;
  /** Direct connections (p2p and mesh). */
  links: Map<string, PeerLink>;
  /** The connection to the relay (group). */
  group: GroupSession | null;
  /** null: this browser cannot share its screen. */
  screenShare: ScreenShare | null;
  /** Our blurred picture, while blur is on. */
  blur: BlurredVideo | null;
  /** Group end-to-end encryption: identity, frame keys, the encrypting worker. */
  encryption: GroupEncryption;
}

/** What one connection (or one relay publisher) really does, from getStats(). */
export interface MediaSummary {
  framesDecoded: number;
  videoBytesReceived: number;
  audioBytesReceived: number;
  /** Decoded video frames per second of the slowest video stream; null without video. */
  framesPerSecond: number | null;
  candidateType: string | null;
  connectionState: string;
  /** Group mode: the temporal layer the relay sends of this person (0: base, half the frame
   * rate), and whether that is all they send; null while paused or before the relay says. */
  layer?: number | null;
  fullLayer?: boolean | null;
}

/** Devices chosen in the preview: ids from enumerateDevices(). */
export interface DeviceChoice {
  audioId?: string;
  videoId?: string;
}

/** Key agreement for end-to-end encryption, to one other admitted participant; the server
 * forwards `data` unread (a JSON object of at most 4,096 bytes, docs/signaling.md). */
export type E2eeClientMessage = { type: "e2ee"; to: string; data: Record<string, unknown> };

/** The counsellor requires end-to-end encryption (browsers that cannot encrypt are refused). */
export type RequireE2eeMessage = { type: "require-e2ee"; on: boolean };

/** A browser → server message (docs/signaling.md). */
export type ClientMessage =
  | E2eeClientMessage
  | RequireE2eeMessage
  | ({ type: string } & Record<string, unknown>);

/** A direct connection's signal: an offer or answer, or an ICE candidate (null: end of them). */
export type PeerSignal = { description: RTCSessionDescriptionInit } | { candidate: RTCIceCandidateInit | null };

export interface EntryElements {
  preview: PreviewElements;
  /** The call area, dimmed while `previewing`. */
  room: HTMLElement;
  /** Gets keyboard focus once the preview is gone. */
  firstControl: HTMLElement;
}

export interface SecurityElements {
  /** The status line; its `data-state` drives the colour. */
  badge: HTMLElement;
  label: HTMLElement;
  /** The safety-numbers box. */
  safety: HTMLDetailsElement;
  words: HTMLElement;
  /** Shown instead of the words when they cannot be worked out. */
  problem: HTMLElement;
  /** How to compare: in a call of two, in a group. */
  pairHint: HTMLElement;
  groupHint: HTMLElement;
}

export interface ModerationElements {
  /** Where knock notices appear. */
  knocks: HTMLElement;
  /** The password / waiting-room panel (holds the HTMX password form); the counsellor's only. */
  panel: HTMLElement | null;
  /** Opens and closes the panel. */
  panelButton: HTMLElement | null;
  waitingRoom: HTMLInputElement | null;
  /** "Require end-to-end encryption" (the counsellor's panel). */
  requireE2ee?: HTMLInputElement | null;
  endForAll: HTMLElement | null;
}

/** One frame's output of MediaPipe's selfie segmentation (the vendored, untyped library). */
export interface SegmentationResults {
  image: CanvasImageSource;
  /** The person opaque, the background transparent. */
  segmentationMask: CanvasImageSource;
}

/** The part of MediaPipe's `SelfieSegmentation` that blur.js uses. */
export interface SelfieSegmentation {
  setOptions(options: { modelSelection: number; selfieMode: boolean; useCpuInference: boolean }): void;
  onResults(listener: (results: SegmentationResults) => void): void;
  initialize(): Promise<void>;
  send(input: { image: CanvasImageSource }): Promise<void>;
}

/** What the MediaPipe loader script puts on `window`. */
export interface SelfieSegmentationScope {
  SelfieSegmentation?: new (options: { locateFile: (file: string) => string }) => SelfieSegmentation;
}

/** What `window.praatbox.state()` resolves to: a fixed contract tests and support rely on. */
export interface DebugState {
  joined: boolean;
  self: string | null;
  moderator: boolean;
  locked: boolean;
  mode: "p2p" | "group";
  participants: (string | null)[];
  /** By peer id; in group mode one entry per publisher plus "relay". */
  media: Record<string, MediaSummary>;
  e2ee: boolean;
  /** The key id this page encrypts with, and every key id it ever held (group mode). */
  e2eeKeys: { sending: number | null; known: number[] };
  /** Frames the encrypting worker handled: encrypted, decrypted, dropped, passed in the clear. */
  e2eeFrames: { encrypted: number; decrypted: number; dropped: number; clear: number };
  meshFallback: boolean;
  safetyWords: string[];
  screenSharing: boolean;
  recording: boolean;
  streaming: boolean;
  blur: boolean;
}
