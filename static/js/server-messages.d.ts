// The server → browser messages the room page handles (docs/signaling.md), for the type check
// only: browsers never load this file.

import type { Capture, CaptureKind } from "./consent.js";
import type { RelaySignal } from "./group.js";
import type { PeerSignal } from "./types";

export type Mode = "p2p" | "group" | "mesh";

export interface ServerMessages {
  welcome: {
    self: string;
    moderator: boolean;
    peers: string[];
    mode: Mode;
    locked: boolean;
    waitingRoom: boolean;
    knocking?: string[];
    /** Peers in `peers` whose socket dropped; they may resume. */
    reconnecting?: string[];
    /** The counsellor requires end-to-end encryption. */
    e2eeRequired: boolean;
    /** Peers already in whose browser cannot encrypt (they said `e2ee=0`). */
    withoutE2ee: string[];
    /** Recordings and streams asked for or running. */
    captures?: Capture[];
  };
  /** This socket took back its place after a drop: the welcome's fields as they are now. */
  resumed: ServerMessages["welcome"];
  /** Someone's socket dropped; they stay for the grace period. */
  "peer-reconnecting": { peer: string };
  "peer-resumed": { peer: string };
  /** `e2ee`: whether the newcomer's browser can encrypt end to end. */
  "peer-joined": { peer: string; e2ee: boolean };
  "peer-left": {
    peer: string;
    reason: "hangup" | "disconnected" | "kicked" | "replaced" | "e2ee-required";
  };
  mode: { mode: Mode };
  /** `data` is a RelaySignal when `from` is "relay", else a PeerSignal. */
  signal: { from: string; data: RelaySignal | PeerSignal };
  /** Another participant's key agreement, as it sent it. */
  e2ee: { from: string; data: Record<string, unknown> };
  /** Another participant's own link is weak (or good again), or they chose audio only. */
  link: { from: string; weak: boolean; audioOnly: boolean };
  knocking: {};
  knock: { peer: string };
  "knock-withdrawn": { peer: string };
  locked: {};
  "waiting-room": { on: boolean };
  "require-e2ee": { on: boolean };
  /** This browser cannot encrypt and the counsellor now requires it: the socket closes next. */
  "e2ee-required": {};
  "attempts-warning": { lockedOut?: boolean };
  denied: {};
  kicked: {};
  ended: {};
  error: { code: string; message?: string };
  /** Held at the door: answer each capture before entering. */
  "consent-needed": { captures: { kind: CaptureKind; state: "asking" | "running" }[] };
  /** A capture was asked for, started, or ended ("off", with the reason). */
  capture: {
    kind: CaptureKind;
    state: "asking" | "running" | "off";
    by?: string;
    consented?: string[];
    reason?: "stopped" | "declined" | "withdrawn" | "left";
  };
}

/** One handler per message type. */
export type ServerHandlers = { [T in keyof ServerMessages]: (message: ServerMessages[T]) => void };
