// The server → browser messages the room page handles (docs/signaling.md), for the type check
// only: browsers never load this file.

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
  };
  "peer-joined": { peer: string };
  "peer-left": { peer: string; reason: "hangup" | "disconnected" | "kicked" | "replaced" };
  mode: { mode: Mode };
  /** `data` is a RelaySignal when `from` is "relay", else a PeerSignal. */
  signal: { from: string; data: RelaySignal | PeerSignal };
  knocking: {};
  knock: { peer: string };
  "knock-withdrawn": { peer: string };
  locked: {};
  "waiting-room": { on: boolean };
  "attempts-warning": { lockedOut?: boolean };
  denied: {};
  kicked: {};
  ended: {};
  error: { code: string; message?: string };
}

/** One handler per message type. */
export type ServerHandlers = { [T in keyof ServerMessages]: (message: ServerMessages[T]) => void };
