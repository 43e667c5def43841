// Stills for the nudity check: of the stranger's <video>, and of the user's own
// camera before the first Start (its <video> is not on the page yet). The checks of a
// black or frozen picture (picture/sample.ts) look at the same videos through these.

// HTMLMediaElement.HAVE_CURRENT_DATA: a frame is there to draw.
const HAVE_CURRENT_DATA = 2;

export function hasFrame(video: HTMLVideoElement): boolean {
  return video.readyState >= HAVE_CURRENT_DATA && video.videoWidth > 0 && video.videoHeight > 0;
}

/** Resolves once video has a frame to take (at once if it has one); rejects when signal aborts. */
export function frameReady(video: HTMLVideoElement, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    if (hasFrame(video)) return resolve();
    const listeners = new AbortController();
    const done = () => {
      if (!hasFrame(video)) return;
      listeners.abort();
      resolve();
    };
    for (const type of ['loadeddata', 'resize', 'playing']) video.addEventListener(type, done, { signal: listeners.signal });
    signal.addEventListener(
      'abort',
      () => {
        listeners.abort();
        reject(signal.reason);
      },
      { signal: listeners.signal },
    );
  });
}

/** One still of the video as it is now, at its own size (the CSS blur does not touch it), or null without a frame. */
export async function stillOf(video: HTMLVideoElement): Promise<ImageBitmap | null> {
  if (!hasFrame(video)) return null;
  return createImageBitmap(video);
}

/** Plays a camera stream in a <video> that is never on the page, for look once it has a frame; stopped after. */
export async function withStreamVideo<T>(stream: MediaStream, signal: AbortSignal, look: (video: HTMLVideoElement) => Promise<T>): Promise<T> {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  try {
    await video.play();
    await frameReady(video, signal);
    return await look(video);
  } finally {
    video.pause();
    video.srcObject = null;
  }
}

/** One still of a camera stream. */
export function stillOfStream(stream: MediaStream, signal: AbortSignal): Promise<ImageBitmap | null> {
  return withStreamVideo(stream, signal, stillOf);
}

/**
 * Waits ms between two looks at a video; rejects when signal aborts. The abort listener goes when
 * the pause ends: a sampling loop pauses thousands of times on one signal in a long call.
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    signal.addEventListener('abort', aborted, { once: true });
  });
}
