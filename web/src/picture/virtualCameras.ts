// Known virtual cameras, by the label the browser gives the device, in one place.
//
// Why warn about them: a virtual camera is software that the operating system lists as a
// camera and that sends whatever its program makes of it: the real camera with effects, a
// streaming scene, a looped clip, or, while that program is closed, a black or logo picture.
// A user may have picked one by mistake (it is often the browser's first camera once it is
// installed), or not know that the stranger sees the program's picture rather than the
// camera's; strangers skip such pictures at once, and looped clips are what bots on these
// sites send. So before Start the page names the camera, and the user decides. Apps that
// make a phone a webcam (DroidCam, Iriun, Camo) send that phone's live camera: not listed.
//
// Matched case-insensitively as a part of the label ("OBS Virtual Camera", "ManyCam Virtual
// Webcam", …); add a program here with the words of its label that no real camera uses.
export const VIRTUAL_CAMERA_NAMES: readonly string[] = [
  'obs virtual camera', // OBS Studio 26 and later (Windows, macOS, Linux)
  'obs-camera', // the older obs-virtualcam plugin
  'manycam',
  'snap camera',
  'xsplit vcam',
  'xsplit broadcaster',
  'e2esoft vcam',
  'logi capture',
  'splitcam',
  'webcamoid',
  'altercam',
  'camtwist',
  'facerig',
  'chromacam',
  'vmix video',
  'wirecast virtual camera',
  'mmhmm',
  'virtual camera', // the generic name many of these use, and Linux's v4l2loopback examples
  'virtual webcam',
];

/** Whether a camera's label names a known virtual camera (an empty label, before the browser names devices, never does). */
export function isVirtualCamera(label: string): boolean {
  const name = label.toLowerCase();
  return name !== '' && VIRTUAL_CAMERA_NAMES.some((known) => name.includes(known));
}
