// @ts-check
// Camera and microphone access, with the reason when it fails. No DOM lookups here.

const VIDEO_CONSTRAINTS = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } };

/**
 * Map a getUserMedia error to what we tell the user.
 * @param {unknown} error
 */
function problemOf(error) {
  switch (error instanceof Error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "denied";
    case "NotReadableError":
    case "AbortError":
      return "busy";
    default:
      return "missing";
  }
}

/**
 * Open camera and microphone (the chosen devices, if any), falling back to whichever works.
 * @param {import("./types").DeviceChoice} [choice]
 * @returns {Promise<{stream: MediaStream | null, problem: string | null}>}
 */
export async function openLocalMedia(choice = {}) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return { stream: null, problem: "insecure" };
  }
  const audio = choice.audioId ? { deviceId: { exact: choice.audioId } } : true;
  const video = choice.videoId ? { ...VIDEO_CONSTRAINTS, deviceId: { exact: choice.videoId } } : VIDEO_CONSTRAINTS;
  let firstProblem = null;
  for (const constraints of [
    { audio, video },
    { audio, video: false },
    { audio: false, video },
  ]) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      return { stream, problem: firstProblem };
    } catch (error) {
      firstProblem = firstProblem || problemOf(error);
      if (firstProblem === "denied") break;
    }
  }
  return { stream: null, problem: firstProblem };
}

/**
 * The cameras and microphones the browser offers (names only once access was granted).
 * @returns {Promise<{cameras: MediaDeviceInfo[], microphones: MediaDeviceInfo[]}>}
 */
export async function listDevices() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return { cameras: [], microphones: [] };
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  return {
    cameras: devices.filter((device) => device.kind === "videoinput" && device.deviceId),
    microphones: devices.filter((device) => device.kind === "audioinput" && device.deviceId),
  };
}
