// Camera and microphone access, with the reason when it fails. No DOM lookups here.

const VIDEO_CONSTRAINTS = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } };

/** Map a getUserMedia error to what we tell the user. */
function problemOf(error) {
  switch (error && error.name) {
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
 * Open camera and microphone, falling back to whichever works.
 * @returns {Promise<{stream: MediaStream | null, problem: string | null}>}
 */
export async function openLocalMedia() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return { stream: null, problem: "insecure" };
  }
  let firstProblem = null;
  for (const constraints of [
    { audio: true, video: VIDEO_CONSTRAINTS },
    { audio: true, video: false },
    { audio: false, video: VIDEO_CONSTRAINTS },
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
